#!/usr/bin/env node
// `npx cdk deploy`: one open-s3vectors endpoint in the account and region of your AWS credentials.
// Settings come from CDK context (`-c key=value` or cdk.json):
//   architecture=x86_64|arm64   removalPolicy=retain|destroy   optimize=false
//   optimizeSchedule="rate(1 hour)"   stageName=v1   stackName=OpenS3Vectors
//   optimizeSizedFor=1000000x1024 (largest index: vectors x dimension)   optimizeMemory=3008 (MB)
//   optimizeJob=false (no Fargate job for builds one run cannot finish)   optimizeJobSizedFor=10000000x1024
// Synth needs no credentials: the stack is environment-agnostic unless CDK_DEFAULT_* are set.
import { App, RemovalPolicy } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import { S3VectorsStack } from '../lib/s3vectors-stack';
import type { LambdaArchitecture } from '../lib/lancedb-layer';

const app = new App();
const context = (key: string): string | undefined => {
  const value = app.node.tryGetContext(key);
  return value === undefined || value === null ? undefined : String(value);
};

const architecture = (context('architecture') ?? 'x86_64') as LambdaArchitecture;
if (architecture !== 'x86_64' && architecture !== 'arm64') throw new Error(`architecture must be x86_64 or arm64, got ${architecture}`);
const removal = (context('removalPolicy') ?? 'retain').toLowerCase();
if (removal !== 'retain' && removal !== 'destroy') throw new Error(`removalPolicy must be retain or destroy, got ${removal}`);

const positive = (key: string): number | undefined => {
  const value = context(key);
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${key} must be a positive integer, got ${value}`);
  return n;
};
const targetOf = (key: string) => {
  const value = context(key);
  if (value === undefined) return undefined;
  const match = /^(\d+)x(\d+)$/.exec(value);
  if (!match) throw new Error(`${key} must be <vectors>x<dimension>, e.g. 1000000x1024; got ${value}`);
  return { vectors: Number(match[1]), dimension: Number(match[2]) };
};
const target = targetOf('optimizeSizedFor');
const jobTarget = targetOf('optimizeJobSizedFor');

new S3VectorsStack(app, context('stackName') ?? 'OpenS3Vectors', {
  env:
    process.env.CDK_DEFAULT_ACCOUNT && process.env.CDK_DEFAULT_REGION
      ? { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION }
      : undefined,
  architecture,
  removalPolicy: removal === 'destroy' ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN,
  stageName: context('stageName'),
  optimize:
    context('optimize') === 'false'
      ? false
      : {
          schedule: events.Schedule.expression(context('optimizeSchedule') ?? 'rate(1 hour)'),
          memorySize: positive('optimizeMemory'),
          ...(target && { sizedFor: target }),
          job: context('optimizeJob') === 'false' ? false : { sizedFor: jobTarget },
        },
});
