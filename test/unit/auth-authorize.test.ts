import { authorize } from '../../lambdas/core/auth/authorize';
import { principalFromArn } from '../../lambdas/core/auth/principal';
import { A, INDEX, alice, allow, cases, ctx, doc } from '../auth/policy-cases';

describe('authorize', () => {
  it.each(cases)('$name → $expected', async (c) => {
    const decision = await authorize({
      principal: c.principal ?? alice,
      action: c.action ?? 's3vectors:QueryVectors',
      resourceArn: c.resource ?? INDEX,
      identityPolicies: c.identity ?? [],
      bucketPolicy: c.bucket,
      context: { ...ctx, ...c.context },
    });
    expect(decision).toBe(c.expected);
  });

  it('reports why it failed closed', async () => {
    const onError = jest.fn();
    await authorize({ principal: alice, action: 's3vectors:GetIndex', resourceArn: INDEX, identityPolicies: ['nope'], context: ctx, onError });
    expect(onError).toHaveBeenCalled();
  });

  it('evaluates assumed-role sessions against role ARNs in bucket policies', async () => {
    const session = principalFromArn(`arn:aws:sts::${A}:assumed-role/reader/session-1`)!;
    expect(session.kind).toBe('assumed-role');
    const bucket = doc(allow('s3vectors:QueryVectors', INDEX, { Principal: { AWS: `arn:aws:iam::${A}:role/reader` } }));
    await expect(authorize({ principal: session, action: 's3vectors:QueryVectors', resourceArn: INDEX, identityPolicies: [], bucketPolicy: bucket, context: ctx })).resolves.toBe('allow');
  });
});

describe('principalFromArn', () => {
  it.each([
    [`arn:aws:iam::${A}:root`, 'root', undefined],
    [`arn:aws:iam::${A}:user/dev/alice`, 'user', 'alice'],
    [`arn:aws:iam::${A}:role/reader`, 'role', undefined],
    [`arn:aws:sts::${A}:assumed-role/reader/s`, 'assumed-role', undefined],
  ])('%s', (arn, kind, userName) => {
    expect(principalFromArn(arn)).toEqual({ arn, accountId: A, kind, ...(userName && { userName }) });
  });
  it('rejects other ARNs', () => {
    for (const arn of ['arn:aws:s3:::b', 'nope', `arn:aws:iam::${A}:group/g`]) expect(principalFromArn(arn)).toBeUndefined();
  });
});
