// The policy engine's parts on their own: wildcards and variables, ARN matching, IP ranges, the
// condition operators, and which bucket-policy resources can govern a bucket.
import { canMatchBucket } from '../../lambdas/core/auth/policy/bucket-scope';
import { evaluateConditions } from '../../lambdas/core/auth/policy/conditions';
import { inRange, parseRange } from '../../lambdas/core/auth/policy/ip';
import { compile, matchArnCondition, matchResource, matchTokens } from '../../lambdas/core/auth/policy/pattern';

const vars = (values: Record<string, string>) => (key: string) => values[key.toLowerCase()];
const glob = (pattern: string, text: string, v: Record<string, string> = {}, ignoreCase = false) => {
  const tokens = compile(pattern, { wildcards: true, variables: vars(v) });
  return tokens !== undefined && matchTokens(tokens, text, ignoreCase);
};

describe('wildcards and policy variables', () => {
  it.each([
    ['s3vectors:*', 's3vectors:QueryVectors', true],
    ['s3vectors:?uery*', 's3vectors:QueryVectors', true],
    ['s3vectors:Query', 's3vectors:QueryVectors', false],
    ['*a*b*c*', 'xaxbxcx', true],
    ['*a*b*c*', 'xaxcxbx', false],
    ['a${*}b', 'a*b', true],
    ['a${*}b', 'axb', false],
    ['a${?}', 'a?', true],
    ['a${?}', 'ab', false],
    ['a${$}b', 'a$b', true],
    ['home/${aws:username}/*', 'home/alice/x', true],
    ['home/${aws:username}/*', 'home/bob/x', false],
    ["home/${aws:nokey, 'guest'}/*", 'home/guest/x', true],
    ['home/${aws:nokey}/*', 'home/${aws:nokey}/x', false],
    ['${aws:tag}', 'x*', true], // a substituted value is literal…
    ['${aws:tag}', 'xyz', false], // …never a wildcard
  ])('%s ~ %s → %s', (pattern, text, expected) => {
    expect(glob(pattern, text, { 'aws:username': 'alice', 'aws:tag': 'x*' })).toBe(expected);
  });

  it('actions match case-insensitively, ARNs case-sensitively', () => {
    expect(glob('S3Vectors:queryvectors', 's3vectors:QueryVectors', {}, true)).toBe(true);
    expect(matchResource(compile('arn:aws:s3vectors:*:*:bucket/Media', { wildcards: true })!, 'arn:aws:s3vectors:us-east-1:1:bucket/media')).toBe(false);
  });

  it('a wildcard does not cross an ARN part, except in the resource part or a shorter pattern’s last part', () => {
    const arn = 'arn:aws:s3vectors:us-east-1:123456789012:bucket/b/index/i';
    const res = (p: string) => matchResource(compile(p, { wildcards: true, variables: vars({ 'aws:principalaccount': '123456789012' }) })!, arn);
    expect(res('arn:aws:s3vectors:*:*:bucket/*')).toBe(true);
    expect(res('arn:aws:s3vectors:*:bucket/b/index/i')).toBe(false);
    expect(res('arn:aws:s3vectors:*')).toBe(true);
    expect(res('arn:aws:s3vectors:us-east-1:${aws:PrincipalAccount}:bucket/b/*')).toBe(true);
    const cond = (p: string) => matchArnCondition(compile(p, { wildcards: true })!, 'arn:aws:iam::123456789012:user/alice');
    expect(cond('arn:aws:iam::*:user/*')).toBe(true);
    expect(cond('arn:aws:iam::*')).toBe(false); // ArnLike compares all six parts
  });
});

describe('IP ranges', () => {
  it.each([
    ['10.0.0.0/8', '10.255.0.1', true],
    ['10.0.0.0/8', '11.0.0.1', false],
    ['10.1.2.3', '10.1.2.3', true],
    ['0.0.0.0/0', '203.0.113.9', true],
    ['2001:db8::/32', '2001:db8:ffff::1', true],
    ['2001:db8::/32', '2001:db9::1', false],
    ['2001:0db8:0000::/48', '2001:db8::42', true],
    ['::/0', '10.1.2.3', false],
    ['::ffff:10.0.0.0/104', '::ffff:10.9.9.9', true],
  ])('%s contains %s → %s', (range, ip, expected) => {
    expect(inRange(parseRange(range)!, ip)).toBe(expected);
  });
  it('rejects malformed ranges', () => {
    for (const r of ['10.0.0.0/33', '256.0.0.1', '1::2::3', '2001:db8::/129', 'nope', '10.0.0']) expect(parseRange(r)).toBeUndefined();
  });
});

describe('condition operators', () => {
  const context = new Map<string, string | string[]>([
    ['aws:username', 'alice'],
    ['aws:epochtime', '1780315200'],
    ['aws:currenttime', '2026-06-01T12:00:00.000Z'],
    ['aws:securetransport', 'true'],
    ['aws:sourceip', '2001:db8::7'],
    ['aws:principalarn', 'arn:aws:iam::123456789012:user/alice'],
    ['aws:tagkeys', ['team', 'cost']],
  ]);
  const v = vars({ 'aws:username': 'alice' });
  it.each([
    [{ StringEquals: { 'aws:username': 'alice' } }, true],
    [{ StringEquals: { 'AWS:UserName': ['bob', 'alice'] } }, true],
    [{ StringNotEquals: { 'aws:username': 'alice' } }, false],
    [{ StringEqualsIgnoreCase: { 'aws:username': 'ALICE' } }, true],
    [{ StringLike: { 'aws:principalarn': '*:user/${aws:username}' } }, true],
    [{ StringNotLike: { 'aws:username': 'a*' } }, false],
    [{ NumericGreaterThan: { 'aws:epochtime': 1780315199 } }, true],
    [{ NumericLessThanEquals: { 'aws:epochtime': '1780315200' } }, true],
    [{ NumericEquals: { 'aws:epochtime': 'abc' } }, false],
    [{ DateGreaterThan: { 'aws:currenttime': '2026-06-01' } }, true],
    [{ DateLessThan: { 'aws:currenttime': '1900000000' } }, true], // epoch seconds
    [{ DateEquals: { 'aws:epochtime': '2026-06-01T12:00:00Z' } }, true],
    [{ Bool: { 'aws:securetransport': true } }, true],
    [{ Bool: { 'aws:securetransport': 'false' } }, false],
    [{ BinaryEquals: { 'aws:username': 'alice' } }, true],
    [{ IpAddress: { 'aws:sourceip': '2001:db8::/32' } }, true],
    [{ NotIpAddress: { 'aws:sourceip': ['2001:db8::/32', '10.0.0.0/8'] } }, false],
    [{ ArnLike: { 'aws:principalarn': 'arn:aws:iam::*:user/a*' } }, true],
    [{ ArnNotEquals: { 'aws:principalarn': 'arn:aws:iam::123456789012:user/alice' } }, false],
    [{ Null: { 'aws:resourcetag/x': 'true', 'aws:username': false } }, true],
    [{ StringEqualsIfExists: { 'aws:resourcetag/x': 'y' } }, true],
    [{ StringEquals: { 'aws:resourcetag/x': 'y' } }, false],
    [{ StringNotEquals: { 'aws:resourcetag/x': 'y' } }, true], // a negated operator on a missing key
    [{ 'ForAllValues:StringEquals': { 'aws:tagkeys': ['team', 'cost', 'owner'] } }, true],
    [{ 'ForAllValues:StringEquals': { 'aws:tagkeys': ['team'] } }, false],
    [{ 'ForAnyValue:StringLike': { 'aws:tagkeys': 'c*' } }, true],
    [{ 'ForAnyValue:StringEquals': { 'aws:resourcetag/x': 'y' } }, false],
    [{ 'ForAllValues:StringEquals': { 'aws:resourcetag/x': 'y' } }, true],
    [{ StringEquals: { 'aws:tagkeys': 'team' } }, false], // a multivalued key needs a set operator
    [{ StringEquals: { 'aws:username': 'alice' }, Bool: { 'aws:securetransport': 'false' } }, false], // AND
    [{ StringEqualz: { 'aws:username': 'alice' } }, false],
  ])('%j → %s', (condition, expected) => {
    expect(evaluateConditions(condition, context, v)).toBe(expected);
  });
});

describe('bucket-policy resources that can govern a bucket', () => {
  const B = 'arn:aws:s3vectors:us-east-1:123456789012:bucket/media';
  it.each([
    ['*', true],
    [B, true],
    [`${B}/*`, true],
    [`${B}/index/movies`, true],
    [`${B}*`, true],
    ['arn:aws:s3vectors:*:*:bucket/media/*', true],
    ['arn:aws:s3vectors:us-east-1:*:bucket/media', true],
    ['arn:aws:s3vectors:*:*:bucket/m?dia', true],
    ['arn:aws:s3vectors:*', true],
    [`${B}/index/\${aws:username}`, true],
    [`${B}/index/a/b`, false], // index names have no '/'
    [`${B}/vector/*`, false],
    [`${B}-2`, false],
    ['arn:aws:s3vectors:*:*:bucket/other/*', false],
    ['arn:aws:s3vectors:eu-west-1:*:bucket/media', false],
    ['arn:aws:s3vectors:*:999999999999:*', false],
    ['arn:aws:s3:::media', false],
  ])('%s → %s', (pattern, expected) => {
    expect(canMatchBucket(pattern, B)).toBe(expected);
  });
});
