// The IAM read calls the AWS deployment's authorization needs, behind a small interface so the
// handler can be tested with a stub. Shapes mirror @aws-sdk/client-iam's (SimulatePrincipalPolicy,
// GetRole, ListUserTags, ListRoleTags, GetContextKeysForPrincipalPolicy); the SDK is loaded only
// when the real client is built, so nothing else depends on it.

export type ContextKeyType =
  | 'string' | 'stringList' | 'numeric' | 'numericList' | 'boolean' | 'booleanList'
  | 'ip' | 'ipList' | 'binary' | 'binaryList' | 'date' | 'dateList';

export interface ContextEntry {
  ContextKeyName: string;
  ContextKeyValues: string[];
  ContextKeyType: ContextKeyType;
}

export interface SimulatePrincipalPolicyInput {
  PolicySourceArn: string;
  ActionNames: string[];
  ResourceArns?: string[];
  ContextEntries?: ContextEntry[];
  Marker?: string;
}

export type EvalDecision = 'allowed' | 'explicitDeny' | 'implicitDeny';

export interface SimulatePrincipalPolicyOutput {
  EvaluationResults?: {
    EvalActionName?: string;
    EvalResourceName?: string;
    EvalDecision?: EvalDecision | string;
    /** Set when the account is in an organization: whether its SCPs allow the action. */
    OrganizationsDecisionDetail?: { AllowedByOrganizations?: boolean };
    PermissionsBoundaryDecisionDetail?: { AllowedByPermissionsBoundary?: boolean };
  }[];
  IsTruncated?: boolean;
  Marker?: string;
}

export interface IamSimulator {
  simulatePrincipalPolicy(input: SimulatePrincipalPolicyInput): Promise<SimulatePrincipalPolicyOutput>;
  /** Finds a role's full ARN (with its path); only needed for roles under a path, e.g. IAM Identity Center's. */
  getRole?(input: { RoleName: string }): Promise<{ Role?: { Arn?: string } }>;
  /** The principal's tags, for aws:PrincipalTag/… (IAM's simulator does not fill them in itself). */
  listUserTags?(input: { UserName: string }): Promise<TagList>;
  listRoleTags?(input: { RoleName: string }): Promise<TagList>;
  /** The condition keys the principal's own policies name (to know whether a decision depends on aws:SourceIp). */
  getContextKeysForPrincipalPolicy?(input: { PolicySourceArn: string }): Promise<{ ContextKeyNames?: string[] }>;
}

export interface TagList {
  Tags?: { Key?: string; Value?: string }[];
  IsTruncated?: boolean;
  Marker?: string;
}

/** IAM actions the handler's role needs for this adapter: grant exactly these. */
export const IAM_SIMULATOR_ACTIONS = [
  'iam:SimulatePrincipalPolicy',
  'iam:GetRole',
  'iam:ListUserTags',
  'iam:ListRoleTags',
  'iam:GetContextKeysForPrincipalPolicy',
] as const;

/** The real IAM client (@aws-sdk/client-iam, loaded here at first use). */
export function awsIamSimulator(config: { region?: string } = {}): IamSimulator {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const iam = require('@aws-sdk/client-iam') as {
    IAMClient: new (c: object) => { send(command: unknown): Promise<any> };
    SimulatePrincipalPolicyCommand: new (input: SimulatePrincipalPolicyInput) => unknown;
    GetRoleCommand: new (input: { RoleName: string }) => unknown;
    ListUserTagsCommand: new (input: { UserName: string; Marker?: string }) => unknown;
    ListRoleTagsCommand: new (input: { RoleName: string; Marker?: string }) => unknown;
    GetContextKeysForPrincipalPolicyCommand: new (input: { PolicySourceArn: string }) => unknown;
  };
  const client = new iam.IAMClient({ ...config, maxAttempts: 3 });
  return {
    simulatePrincipalPolicy: (input) => client.send(new iam.SimulatePrincipalPolicyCommand(input)),
    getRole: (input) => client.send(new iam.GetRoleCommand(input)),
    listUserTags: (input) => client.send(new iam.ListUserTagsCommand(input)),
    listRoleTags: (input) => client.send(new iam.ListRoleTagsCommand(input)),
    getContextKeysForPrincipalPolicy: (input) => client.send(new iam.GetContextKeysForPrincipalPolicyCommand(input)),
  };
}
