// The hand-written authorization cases: run against the engine by test/unit/auth-authorize.test.ts
// and against the reference evaluator by test/auth/policy-differential.test.ts.
import type { AuthorizeContext, Decision } from '../../lambdas/core/auth/authorize';
import { rootPrincipal, userPrincipal, type Principal } from '../../lambdas/core/auth/principal';

export const A = '123456789012';
export const BUCKET = `arn:aws:s3vectors:us-east-1:${A}:bucket/media`;
export const INDEX = `${BUCKET}/index/movies`;
export const alice = userPrincipal(A, 'alice');
const bob = userPrincipal(A, 'bob');
export const ctx: AuthorizeContext = { sourceIp: '10.1.2.3', secureTransport: true, currentTime: new Date('2026-06-01T12:00:00Z') };
export const doc = (...Statement: object[]) => JSON.stringify({ Version: '2012-10-17', Statement });
export const allow = (Action: unknown, Resource: unknown = '*', extra: object = {}) => ({ Effect: 'Allow', Action, Resource, ...extra });
export const deny = (Action: unknown, Resource: unknown = '*', extra: object = {}) => ({ Effect: 'Deny', Action, Resource, ...extra });
const admin = doc(allow('*'));

export interface Case {
  name: string;
  principal?: Principal;
  action?: string;
  resource?: string;
  identity?: string[];
  bucket?: string;
  context?: Partial<AuthorizeContext>;
  expected: Decision;
}

export const cases: Case[] = [
  // allow / deny / no policy × identity / bucket
  { name: 'no policy at all', expected: 'implicit-deny' },
  { name: 'identity allow', identity: [doc(allow('s3vectors:QueryVectors', INDEX))], expected: 'allow' },
  { name: 'identity deny only', identity: [doc(deny('s3vectors:QueryVectors'))], expected: 'deny' },
  { name: 'bucket allow naming the user', bucket: doc(allow('s3vectors:QueryVectors', INDEX, { Principal: { AWS: alice.arn } })), expected: 'allow' },
  { name: 'bucket allow naming another user', bucket: doc(allow('s3vectors:QueryVectors', INDEX, { Principal: { AWS: bob.arn } })), expected: 'implicit-deny' },
  { name: 'bucket deny for everyone', bucket: doc(deny('s3vectors:QueryVectors', INDEX, { Principal: '*' })), expected: 'deny' },
  { name: 'identity allow + bucket allow', identity: [doc(allow('s3vectors:*'))], bucket: doc(allow('s3vectors:*', `${BUCKET}/*`, { Principal: { AWS: alice.arn } })), expected: 'allow' },
  { name: 'identity deny beats bucket allow', identity: [doc(deny('s3vectors:Query*'))], bucket: doc(allow('s3vectors:*', `${BUCKET}/*`, { Principal: '*' })), expected: 'deny' },
  { name: 'bucket deny beats an administrator identity policy', identity: [admin], bucket: doc(deny('s3vectors:*', `${BUCKET}/*`, { Principal: { AWS: alice.arn } })), expected: 'deny' },
  { name: 'deny in a second identity policy wins', identity: [admin, doc(deny('s3vectors:QueryVectors', INDEX))], expected: 'deny' },
  // root
  { name: 'root without policies', principal: rootPrincipal(A), expected: 'allow' },
  { name: 'root is denied by the bucket policy', principal: rootPrincipal(A), bucket: doc(deny('s3vectors:QueryVectors', INDEX, { Principal: '*' })), expected: 'deny' },
  // wildcards, NotAction, NotResource, NotPrincipal
  { name: 'action wildcard', identity: [doc(allow('s3vectors:Q*', INDEX))], expected: 'allow' },
  { name: 'action wildcard not matching', identity: [doc(allow('s3vectors:Get*', INDEX))], expected: 'implicit-deny' },
  { name: 'resource wildcard', identity: [doc(allow('s3vectors:QueryVectors', `${BUCKET}/index/mov*`))], expected: 'allow' },
  { name: 'resource of another bucket', identity: [doc(allow('s3vectors:QueryVectors', `arn:aws:s3vectors:us-east-1:${A}:bucket/other/*`))], expected: 'implicit-deny' },
  { name: 'action names are case-insensitive', identity: [doc(allow('S3Vectors:queryvectors', INDEX))], expected: 'allow' },
  { name: 'NotAction excluding the action', identity: [doc({ Effect: 'Allow', NotAction: 's3vectors:QueryVectors', Resource: '*' })], expected: 'implicit-deny' },
  { name: 'NotAction excluding another action', identity: [doc({ Effect: 'Allow', NotAction: 's3vectors:Delete*', Resource: '*' })], expected: 'allow' },
  { name: 'NotResource excluding the index', identity: [doc({ Effect: 'Allow', Action: 's3vectors:*', NotResource: INDEX })], expected: 'implicit-deny' },
  { name: 'Deny with NotResource elsewhere', identity: [admin, doc({ Effect: 'Deny', Action: 's3vectors:*', NotResource: `${BUCKET}/index/other` })], expected: 'deny' },
  { name: 'NotPrincipal deny spares the named user', identity: [admin], bucket: doc({ Effect: 'Deny', NotPrincipal: { AWS: alice.arn }, Action: 's3vectors:*', Resource: `${BUCKET}/*` }), expected: 'allow' },
  { name: 'NotPrincipal deny hits others', principal: bob, identity: [admin], bucket: doc({ Effect: 'Deny', NotPrincipal: { AWS: alice.arn }, Action: 's3vectors:*', Resource: `${BUCKET}/*` }), expected: 'deny' },
  // conditions: IP, tags, time, transport, identity keys
  { name: 'IpAddress in range', identity: [doc(allow('s3vectors:*', '*', { Condition: { IpAddress: { 'aws:SourceIp': '10.0.0.0/8' } } }))], expected: 'allow' },
  { name: 'IpAddress out of range', identity: [doc(allow('s3vectors:*', '*', { Condition: { IpAddress: { 'aws:SourceIp': '192.168.0.0/16' } } }))], expected: 'implicit-deny' },
  { name: 'NotIpAddress deny from outside', identity: [admin, doc(deny('*', '*', { Condition: { NotIpAddress: { 'aws:SourceIp': '192.168.0.0/16' } } }))], expected: 'deny' },
  { name: 'ResourceTag match', identity: [doc(allow('s3vectors:*', '*', { Condition: { StringEquals: { 'aws:ResourceTag/team': 'search' } } }))], context: { resourceTags: { team: 'search' } }, expected: 'allow' },
  { name: 'ResourceTag mismatch', identity: [doc(allow('s3vectors:*', '*', { Condition: { StringEquals: { 'aws:ResourceTag/team': 'search' } } }))], context: { resourceTags: { team: 'ads' } }, expected: 'implicit-deny' },
  { name: 'ResourceTag absent', identity: [doc(allow('s3vectors:*', '*', { Condition: { StringEquals: { 'aws:ResourceTag/team': 'search' } } }))], expected: 'implicit-deny' },
  { name: 'RequestTag on CreateIndex', action: 's3vectors:CreateIndex', identity: [doc(allow('s3vectors:CreateIndex', '*', { Condition: { StringEquals: { 'aws:RequestTag/team': 'search' } } }))], context: { requestTags: { team: 'search' } }, expected: 'allow' },
  { name: 'TagKeys ForAllValues rejects an extra key', action: 's3vectors:TagResource', identity: [doc(allow('s3vectors:TagResource', '*', { Condition: { 'ForAllValues:StringEquals': { 'aws:TagKeys': ['team'] } } }))], context: { requestTags: { team: 'a', cost: 'b' } }, expected: 'implicit-deny' },
  { name: 'TagKeys ForAnyValue on UntagResource', action: 's3vectors:UntagResource', identity: [doc(allow('s3vectors:UntagResource', '*', { Condition: { 'ForAnyValue:StringEquals': { 'aws:TagKeys': ['team'] } } }))], context: { tagKeys: ['team'] }, expected: 'allow' },
  { name: 'CurrentTime before deadline', identity: [doc(allow('s3vectors:*', '*', { Condition: { DateLessThan: { 'aws:CurrentTime': '2027-01-01T00:00:00Z' } } }))], expected: 'allow' },
  { name: 'CurrentTime after deadline', identity: [doc(allow('s3vectors:*', '*', { Condition: { DateLessThan: { 'aws:CurrentTime': '2026-01-01T00:00:00Z' } } }))], expected: 'implicit-deny' },
  { name: 'SecureTransport false denied', identity: [admin], bucket: doc(deny('s3vectors:*', `${BUCKET}/*`, { Principal: '*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })), context: { secureTransport: false }, expected: 'deny' },
  { name: 'aws:username policy variable', identity: [doc(allow('s3vectors:*', '*', { Condition: { StringEquals: { 'aws:username': 'alice' } } }))], expected: 'allow' },
  { name: 'PrincipalArn ArnLike in bucket policy', bucket: doc(allow('s3vectors:QueryVectors', INDEX, { Principal: '*', Condition: { ArnLike: { 'aws:PrincipalArn': `arn:aws:iam::${A}:user/a*` } } })), expected: 'allow' },
  { name: 'StringEqualsIfExists on a missing key', identity: [doc(allow('s3vectors:*', '*', { Condition: { StringEqualsIfExists: { 'aws:ResourceTag/team': 'x' } } }))], expected: 'allow' },
  { name: 'Null condition', identity: [doc(allow('s3vectors:*', '*', { Condition: { Null: { 'aws:ResourceTag/team': 'true' } } }))], expected: 'allow' },
  // actions without a resource type, and the newest actions
  { name: 'ListVectorBuckets on *', action: 's3vectors:ListVectorBuckets', resource: '*', identity: [doc(allow('s3vectors:List*'))], expected: 'allow' },
  { name: 'UpdateIndexMode allowed', action: 's3vectors:UpdateIndexMode', identity: [doc(allow('s3vectors:UpdateIndexMode', INDEX))], expected: 'allow' },
  { name: 'UpdateIndexMode not granted', action: 's3vectors:UpdateIndexMode', identity: [doc(allow('s3vectors:GetIndex', INDEX))], expected: 'implicit-deny' },
  { name: 'PutVectorBucketDefaultIndexMode denied by bucket', action: 's3vectors:PutVectorBucketDefaultIndexMode', resource: BUCKET, identity: [admin], bucket: doc(deny('s3vectors:Put*', BUCKET, { Principal: '*' })), expected: 'deny' },
  // fail closed
  { name: 'bucket policy that is JSON null', identity: [admin], bucket: 'null', expected: 'implicit-deny' },
  { name: 'identity policy that is JSON null', identity: ['null'], expected: 'implicit-deny' },
  { name: 'unparseable identity policy', identity: ['{not json'], expected: 'implicit-deny' },
  { name: 'invalid identity policy next to an allow', identity: [admin, JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Maybe', Action: '*', Resource: '*' }] })], expected: 'implicit-deny' },
];

