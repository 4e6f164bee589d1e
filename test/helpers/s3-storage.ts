// LanceDB storage as the Lambdas use it in AWS — s3+ddb:// with Lance's DynamoDB commit store — on
// a local S3-compatible server (s3rver) and a DynamoDB-protocol server (dynalite).
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { LanceStoreOptions } from '../../lambdas/adapters/lance/lance-store';
import { startDynalite } from '../../lambdas/local/dynalite';
import { startS3rver } from './s3rver';

const BUCKET = 'open-s3vectors-data';
const COMMITS = 'open-s3vectors-commits';

export interface S3Storage {
  storage: LanceStoreOptions;
  close(): Promise<void>;
}

export async function startS3Storage(): Promise<S3Storage> {
  const s3 = await startS3rver([BUCKET]);
  const dynamo = await startDynalite();
  const credentials = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };
  const client = new DynamoDBClient({ endpoint: dynamo.endpoint, region: 'us-east-1', credentials });
  // The commit table the stack creates: one item per table version, put-if-absent.
  await client.send(
    new CreateTableCommand({
      TableName: COMMITS,
      AttributeDefinitions: [
        { AttributeName: 'base_uri', AttributeType: 'S' },
        { AttributeName: 'version', AttributeType: 'N' },
      ],
      KeySchema: [
        { AttributeName: 'base_uri', KeyType: 'HASH' },
        { AttributeName: 'version', KeyType: 'RANGE' },
      ],
      BillingMode: 'PAY_PER_REQUEST',
    }),
  );
  client.destroy();
  return {
    storage: {
      uri: `s3+ddb://${BUCKET}/vectors?ddbTableName=${COMMITS}`,
      storageOptions: {
        aws_region: 'us-east-1',
        aws_endpoint: s3.endpoint,
        allow_http: 'true',
        aws_access_key_id: credentials.accessKeyId,
        aws_secret_access_key: credentials.secretAccessKey,
        dynamodb_endpoint: dynamo.endpoint,
      },
      readConsistencySeconds: 0,
    },
    close: async () => {
      await s3.close();
      await dynamo.close();
    },
  };
}
