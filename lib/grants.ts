// The IAM grants of the stack's compute on its data, shared by the operation functions, the
// optimize function and the optimize job's task role: each gets only the actions it uses.
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { LEASE_PREFIX } from '../lambdas/adapters/maintenance-lease';
import { SHARED_DECISION_PREFIX } from '../lambdas/adapters/shared-decisions';

/** Partition-key prefix of pagination cursors in the catalog (lambdas/adapters/dynamo-catalog.ts). */
const CURSOR_PREFIX = 'CURSOR#';
/** Lance tables live under this prefix of the data bucket. */
export const VECTOR_PREFIX = 'vectors';

export interface DataResources {
  catalogTable: dynamodb.ITable;
  commitTable: dynamodb.ITable;
  dataBucket: s3.IBucket;
}

/** A Lambda function, or a task definition's role (`{ addToRolePolicy: (s) => task.addToTaskRolePolicy(s) }`). */
export interface PolicyTarget {
  addToRolePolicy(statement: iam.PolicyStatement): void;
}

export function grantCatalog(target: PolicyTarget, data: DataResources, access: 'read' | 'write', issuesCursors: boolean, sharesDecisions = true): void {
  const table = data.catalogTable.tableArn;
  target.addToRolePolicy(new iam.PolicyStatement({ actions: ['dynamodb:GetItem', 'dynamodb:Query'], resources: [table] }));
  if (access === 'write') {
    target.addToRolePolicy(new iam.PolicyStatement({ actions: ['dynamodb:PutItem', 'dynamodb:DeleteItem'], resources: [table] }));
    return;
  }
  // A read-only operation still stores its pagination cursors (if it pages) and the IAM decisions
  // it shares with the other functions (lambdas/adapters/shared-decisions.ts), and nothing else.
  const keys = [...(issuesCursors ? [`${CURSOR_PREFIX}*`] : []), ...(sharesDecisions ? [`${SHARED_DECISION_PREFIX}*`] : [])];
  if (!keys.length) return;
  target.addToRolePolicy(
    new iam.PolicyStatement({
      actions: ['dynamodb:PutItem'],
      resources: [table],
      conditions: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': keys } },
    }),
  );
}

export function grantVectors(target: PolicyTarget, data: DataResources, access: 'read' | 'write'): void {
  const objects = data.dataBucket.arnForObjects(`${VECTOR_PREFIX}/*`);
  // Unconditional: without s3:ListBucket, S3 answers HEAD/GET of a missing object 403 instead
  // of 404, and Lance branches on NotFound. The bucket holds only this deployment's data.
  target.addToRolePolicy(new iam.PolicyStatement({ actions: ['s3:ListBucket'], resources: [data.dataBucket.bucketArn] }));
  target.addToRolePolicy(new iam.PolicyStatement({ actions: ['s3:GetObject'], resources: [objects] }));
  target.addToRolePolicy(
    new iam.PolicyStatement({ actions: ['dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:DescribeTable'], resources: [data.commitTable.tableArn] }),
  );
  if (access === 'write') {
    target.addToRolePolicy(new iam.PolicyStatement({ actions: ['s3:PutObject', 's3:DeleteObject', 's3:AbortMultipartUpload'], resources: [objects] }));
    target.addToRolePolicy(
      new iam.PolicyStatement({ actions: ['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem'], resources: [data.commitTable.tableArn] }),
    );
  }
}

/**
 * Maintenance (the optimize function and its job): reads the catalog to find the indexes, rewrites
 * their Lance tables, and writes only lease items in the catalog (lambdas/adapters/maintenance-lease.ts).
 */
export function grantMaintenance(target: PolicyTarget, data: DataResources): void {
  grantCatalog(target, data, 'read', false, false);
  target.addToRolePolicy(
    new iam.PolicyStatement({
      actions: ['dynamodb:PutItem', 'dynamodb:DeleteItem'],
      resources: [data.catalogTable.tableArn],
      conditions: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [`${LEASE_PREFIX}*`] } },
    }),
  );
  grantVectors(target, data, 'write');
}
