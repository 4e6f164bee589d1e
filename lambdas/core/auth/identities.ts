// The IdentityStore port (IAM users, access keys, inline identity policies) and the credential
// lookup the SigV4 verifier uses. Adapters: DynamoDB (lambdas/adapters/dynamo-identities.ts).
import { randomBytes } from 'node:crypto';
import { ValidationError } from '../errors';
import { checkIdentityPolicy } from './bucket-policy';
import { rootPrincipal, userPrincipal, type Principal } from './principal';
import type { SecretLookup } from './sigv4';

export interface IamUser {
  name: string;
  enabled: boolean;
  /** Epoch seconds. */
  createdAt: number;
  /** Inline identity policies: name → policy JSON. */
  policies: Record<string, string>;
}

export interface AccessKey {
  accessKeyId: string;
  secretAccessKey: string;
  userName: string;
  createdAt: number;
}

export interface IdentityStore {
  /** The key's user with its policies, or undefined when the key is unknown. */
  findByAccessKey(accessKeyId: string): Promise<{ user: IamUser; secretAccessKey: string } | undefined>;
  /** Fails with ConflictError when the user exists. */
  createUser(name: string): Promise<IamUser>;
  /** Fails with NotFoundError when the user does not exist. */
  createAccessKey(userName: string): Promise<AccessKey>;
  /** Adds or replaces the user's inline policy `policyName`. */
  attachPolicy(userName: string, policyName: string, policyJson: string): Promise<void>;
  listUsers(): Promise<IamUser[]>;
  setUserEnabled(userName: string, enabled: boolean): Promise<void>;
  /** Deletes the user, its access keys and policies. */
  deleteUser(userName: string): Promise<void>;
}

// IAM's own rules for user and policy names.
const NAME = /^[\w+=,.@-]{1,64}$/;
const POLICY_NAME = /^[\w+=,.@-]{1,128}$/;

export function checkUserName(name: string): void {
  if (!NAME.test(name)) throw ValidationError.field('/userName', 'User names are 1-64 characters of letters, digits and +=,.@_-.');
}

export function checkPolicyName(name: string): void {
  if (!POLICY_NAME.test(name)) throw ValidationError.field('/policyName', 'Policy names are 1-128 characters of letters, digits and +=,.@_-.');
}

/** Validates names and the policy document before anything reaches a store. */
export function checkAttachPolicy(userName: string, policyName: string, policyJson: string): void {
  checkUserName(userName);
  checkPolicyName(policyName);
  checkIdentityPolicy(policyJson);
}

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** A new key pair shaped like AWS's: AKIA + 16 base32 characters, and a 40-character secret. */
export function generateAccessKey(userName: string, now: Date): AccessKey {
  const id = [...randomBytes(16)].map((b) => BASE32[b % 32]).join('');
  const secret = randomBytes(30).toString('base64');
  return { accessKeyId: `AKIA${id}`, secretAccessKey: secret, userName, createdAt: Math.floor(now.getTime() / 1000) };
}

/**
 * Seals secrets stored at rest (IAM secret access keys) so the store alone does not reveal them;
 * `context` (the access key id) is bound to the sealed text.
 */
export interface SecretSealer {
  seal(plain: string, context: string): string;
  /** Throws when `sealed` was not sealed with this key and context. */
  open(sealed: string, context: string): string;
}

export interface RootCredentials {
  accessKeyId: string;
  secretAccessKey: string;
}

/** An authenticated caller and the identity policies `authorize` needs, from one store read. */
export interface Caller {
  principal: Principal;
  identityPolicies: string[];
}

/** Root keys first, then the store; disabled users' keys are unknown keys, as in IAM. */
export function credentialLookup(store: IdentityStore, accountId: string, root?: RootCredentials): SecretLookup<Caller> {
  return async (accessKeyId) => {
    if (root && accessKeyId === root.accessKeyId) {
      return { secretAccessKey: root.secretAccessKey, principal: { principal: rootPrincipal(accountId), identityPolicies: [] } };
    }
    const found = await store.findByAccessKey(accessKeyId);
    if (!found || !found.user.enabled) return undefined;
    const caller = { principal: userPrincipal(accountId, found.user.name), identityPolicies: Object.values(found.user.policies) };
    return { secretAccessKey: found.secretAccessKey, principal: caller };
  };
}
