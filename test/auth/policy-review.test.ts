// Defects found by the adversarial review of the policy engine (issue 12): each case failed before
// its fix. Names inherited from Object.prototype are not operators or escapes; characters outside
// the BMP match themselves; condition keys may name tag keys with spaces; W3C year-month dates.
import { authorize, type AuthorizeInput } from '../../lambdas/core/auth/authorize';
import { checkBucketPolicy, checkIdentityPolicy } from '../../lambdas/core/auth/bucket-policy';
import { ValidationError } from '../../lambdas/core/errors';
import { BUCKET, INDEX, alice, allow, ctx, deny, doc } from './policy-cases';

const admin = doc(allow('*'));
const decide = (identityPolicies: string[], over: Partial<AuthorizeInput> = {}) =>
  authorize({ principal: alice, action: 's3vectors:QueryVectors', resourceArn: INDEX, identityPolicies, context: ctx, ...over });

function rejected(check: () => void): string {
  try {
    check();
  } catch (e) {
    expect(e).toBeInstanceOf(ValidationError);
    return (e as ValidationError).message;
  }
  throw new Error('accepted');
}

describe('names inherited from Object.prototype', () => {
  it.each(['constructor', '__proto__', 'ForAnyValue:constructor', 'constructorIfExists', 'hasOwnProperty'])('%s is not a condition operator: rejected, and never true', async (operator) => {
    const statement = allow('*', '*', { Condition: { [operator]: { 'aws:username': 'nobody' } } });
    // A computed key makes "__proto__" an own property, as JSON.parse does for a document sent over the wire.
    const json = JSON.stringify({ Version: '2012-10-17', Statement: [statement] });
    expect(json).toContain(`"${operator}"`);
    expect(rejected(() => checkIdentityPolicy(json))).toMatch(/invalid Condition operator/);
    const bucketJson = JSON.stringify({ Version: '2012-10-17', Statement: [{ ...statement, Principal: '*', Resource: BUCKET }] });
    expect(rejected(() => checkBucketPolicy(bucketJson, BUCKET))).toMatch(/invalid Condition operator/);
    expect(await decide([json])).toBe('implicit-deny');
  });

  it('a __proto__ operator in a stored bucket policy does not throw: the policy is unreadable, denied as such', async () => {
    const reasons: string[] = [];
    const bucketPolicy = `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*","Action":"*","Resource":"*","Condition":{"__proto__":{"aws:username":"x"}}}]}`;
    expect(await decide([admin], { bucketPolicy, onError: (reason) => reasons.push(reason) })).toBe('implicit-deny');
    expect(reasons).toEqual(['policy is not a valid policy document']);
  });

  it.each(['toString', 'constructor', '__proto__', 'valueOf'])('${%s} is an unresolvable variable, not an escape', async (name) => {
    expect(await decide([doc(allow('*', `${BUCKET}/*\${${name}}`))])).toBe('implicit-deny');
    expect(await decide([doc(allow('*', `${INDEX}\${${name}}`))])).toBe('implicit-deny');
    // The real escapes still work.
    expect(await decide([doc(allow('*', '*', { Condition: { StringLike: { 'aws:ResourceTag/t': 'a${*}${?}${$}' } } }))], { context: { ...ctx, resourceTags: { t: 'a*?$' } } })).toBe('allow');
  });
});

describe('characters outside the Basic Multilingual Plane', () => {
  // Tag values allow any Unicode letter (\p{L}), and 𝐀 (U+1D400) is one: two UTF-16 code units.
  const tagged = { context: { ...ctx, resourceTags: { team: 'x𝐀y' } } };
  it.each([
    ['StringEquals', { StringEquals: { 'aws:ResourceTag/team': 'x𝐀y' } }, 'allow'],
    ['StringEqualsIgnoreCase', { StringEqualsIgnoreCase: { 'aws:ResourceTag/team': 'X𝐀Y' } }, 'allow'],
    ['StringLike *', { StringLike: { 'aws:ResourceTag/team': '*𝐀*' } }, 'allow'],
    ['StringNotEquals', { StringNotEquals: { 'aws:ResourceTag/team': 'x𝐀y' } }, 'implicit-deny'],
  ])('%s matches them', async (_name, Condition, expected) => {
    expect(await decide([doc(allow('*', '*', { Condition }))], tagged)).toBe(expected);
  });

  it('a Deny on such a tag value applies', async () => {
    expect(await decide([admin, doc(deny('*', '*', { Condition: { StringEquals: { 'aws:ResourceTag/team': 'x𝐀y' } } }))], tagged)).toBe('deny');
  });
});

describe('condition keys that name tag keys', () => {
  // S3 Vectors tag keys allow spaces (\p{Z}): `Cost Center` is a valid tag key, so
  // `aws:ResourceTag/Cost Center` is a valid condition key.
  const condition = { StringEquals: { 'aws:ResourceTag/Cost Center': 'ads' } };
  it('a tag key with a space is accepted in identity and bucket policies and matched', async () => {
    expect(() => checkIdentityPolicy(doc(allow('*', '*', { Condition: condition })))).not.toThrow();
    expect(() => checkBucketPolicy(doc(deny('s3vectors:*', BUCKET, { Principal: '*', Condition: condition })), BUCKET)).not.toThrow();
    expect(await decide([doc(allow('*', '*', { Condition: condition }))], { context: { ...ctx, resourceTags: { 'Cost Center': 'ads' } } })).toBe('allow');
    expect(await decide([doc(allow('*', '*', { Condition: condition }))], { context: { ...ctx, resourceTags: { 'Cost Center': 'search' } } })).toBe('implicit-deny');
  });

  it('still rejects keys without a prefix, empty keys and control characters', () => {
    for (const key of ['username', 'aws:', ':x', 'aws:Resource\nTag', 'aws:username ']) {
      expect(rejected(() => checkIdentityPolicy(doc(allow('*', '*', { Condition: { StringEquals: { [key]: 'x' } } }))))).toMatch(/invalid condition key/);
    }
  });
});

describe('Date values in the W3C profile of ISO 8601', () => {
  // "YYYY-MM" is one of the W3C date formats the IAM guide names (the reference accepts it too).
  it.each([
    ['2026-07', 'allow'], // before July 2026 — the request is on 1 June 2026
    ['2026-06', 'implicit-deny'],
  ])('DateLessThan %s', async (value, expected) => {
    expect(await decide([doc(allow('*', '*', { Condition: { DateLessThan: { 'aws:CurrentTime': value } } }))])).toBe(expected);
  });
});

describe('IPv4 clients of a dual-stack listener', () => {
  // With `--host ::`, Node reports an IPv4 client as ::ffff:10.1.2.3; AWS would see 10.1.2.3.
  const mapped = { context: { ...ctx, sourceIp: '::ffff:10.1.2.3' } };
  it('an IPv4-mapped source address is in the IPv4 range of the address it maps', async () => {
    expect(await decide([doc(allow('*', '*', { Condition: { IpAddress: { 'aws:SourceIp': '10.0.0.0/8' } } }))], mapped)).toBe('allow');
    expect(await decide([admin, doc(deny('*', '*', { Condition: { NotIpAddress: { 'aws:SourceIp': '10.0.0.0/8' } } }))], mapped)).toBe('allow');
    expect(await decide([admin, doc(deny('*', '*', { Condition: { NotIpAddress: { 'aws:SourceIp': '192.168.0.0/16' } } }))], mapped)).toBe('deny');
  });

  it('other IPv6 addresses stay outside IPv4 ranges', async () => {
    for (const sourceIp of ['::10.1.2.3', '2001:db8::a01:203', '::ffff:0:a01:203']) {
      expect(await decide([doc(allow('*', '*', { Condition: { IpAddress: { 'aws:SourceIp': '10.0.0.0/8' } } }))], { context: { ...ctx, sourceIp } })).toBe('implicit-deny');
    }
  });
});
