// Who made a request, as IAM names it. The ARN is what policies match (aws:PrincipalArn).

export type PrincipalKind = 'root' | 'user' | 'role' | 'assumed-role';

export interface Principal {
  arn: string;
  accountId: string;
  /** IAM user name: the value of aws:username (IAM sets it for users only). */
  userName?: string;
  kind: PrincipalKind;
}

export function rootPrincipal(accountId: string): Principal {
  return { arn: `arn:aws:iam::${accountId}:root`, accountId, kind: 'root' };
}

export function userPrincipal(accountId: string, userName: string): Principal {
  return { arn: `arn:aws:iam::${accountId}:user/${userName}`, accountId, userName, kind: 'user' };
}

const ARN = /^arn:(aws[a-z-]*):(iam|sts)::([0-9]{12}):(.+)$/;

/**
 * Parses a caller ARN as API Gateway reports it (userArn / caller); undefined when it is not an
 * IAM root, user, role or STS assumed-role ARN. User and role paths (`user/path/name`) are kept in
 * the ARN; the user name is the last segment.
 */
export function principalFromArn(arn: string): Principal | undefined {
  const m = ARN.exec(arn);
  if (!m) return undefined;
  const [, , service, accountId, rest] = m;
  if (service === 'iam' && rest === 'root') return { arn, accountId, kind: 'root' };
  if (service === 'iam' && rest.startsWith('user/')) {
    return { arn, accountId, userName: rest.slice(rest.lastIndexOf('/') + 1), kind: 'user' };
  }
  if (service === 'iam' && rest.startsWith('role/')) return { arn, accountId, kind: 'role' };
  if (service === 'sts' && /^assumed-role\/[^/]+\/[^/]+$/.test(rest)) return { arn, accountId, kind: 'assumed-role' };
  return undefined;
}

/**
 * The ARN IAM evaluates a principal as: for an assumed-role session that is its role
 * (aws:PrincipalArn, SimulatePrincipalPolicy), for everyone else their own ARN.
 */
export function simulationArn(principal: Principal): string {
  if (principal.kind !== 'assumed-role') return principal.arn;
  const [, partition, , , account, rest] = principal.arn.split(':');
  return `arn:${partition}:iam::${account}:role/${rest.split('/')[1]}`;
}
