// `npm run iam -- <command>`: IAM users, access keys and identity policies of the local server,
// stored in its catalog. While the server runs, the CLI goes through the server's embedded DynamoDB
// endpoint (<data-dir>/catalog-endpoint); otherwise it opens the catalog files itself.
// Secret access keys are printed once, to stdout, by create-access-key, and nowhere else.
import '../lambdas/local/quiet-sdk';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { DynamoIdentityStore } from '../lambdas/adapters/dynamo-identities';
import { aesGcmSealer } from '../lambdas/adapters/secret-sealer';
import { userPrincipal } from '../lambdas/core/auth/principal';
import { serviceConfigFromEnv } from '../lambdas/core/config';
import { ServiceError } from '../lambdas/core/errors';
import { openDataDirCatalog } from '../lambdas/local/open-catalog';
import { loadSecretSealer } from '../lambdas/local/secret-key';

// The SDK here only talks to the local catalog: its Node-version notice is noise on a CLI's stderr.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
// Whatever this creates in the data directory (catalog files, secret.key) is the owner's alone.
process.umask(0o077);

const USAGE = `Usage: npm run iam -- <command> [--data-dir ./data] [--json]

Commands:
  create-user <name>                           create an IAM user (no permissions until a policy is attached)
  create-access-key <user>                     create an access key; the secret is shown this once
  attach-policy <user> <policy-name> <file>    add or replace an inline identity policy (IAM policy JSON)
  list-users                                   users, whether enabled, and their policy names
  disable-user <user> | enable-user <user>     a disabled user's keys are rejected like unknown keys
  delete-user <user>                           delete the user, its keys and policies

Options:
  --data-dir <dir>   the server's data directory (default ./data, or S3V_DATA_DIR)
  --json             machine-readable output
Works whether or not the server is running.`;

const ARITY: Record<string, number> = {
  'create-user': 1,
  'create-access-key': 1,
  'attach-policy': 3,
  'list-users': 0,
  'disable-user': 1,
  'enable-user': 1,
  'delete-user': 1,
};

class UsageError extends Error {}

interface Catalog {
  store: DynamoIdentityStore;
  via: 'server' | 'files';
  close(): Promise<void>;
}

async function openCatalog(dataDir: string): Promise<Catalog> {
  let opened;
  try {
    opened = await openDataDirCatalog(dataDir);
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  // Secret access keys are sealed as the server seals them: the shared key file, or the data directory's.
  const sealer = opened.secretKey ? aesGcmSealer(opened.secretKey) : loadSecretSealer(dataDir);
  const store = new DynamoIdentityStore(opened.client, opened.table, undefined, sealer);
  return { store, via: opened.via, close: opened.close };
}

function readPolicyFile(file: string): string {
  try {
    return readFileSync(resolve(file), 'utf8');
  } catch (e) {
    throw new UsageError(`cannot read policy file ${file}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
  }
}

async function run(command: string, args: string[], store: DynamoIdentityStore, json: boolean, accountId: string): Promise<void> {
  const out = (human: string, data: unknown) => console.log(json ? JSON.stringify(data) : human);
  switch (command) {
    case 'create-user': {
      const user = await store.createUser(args[0]);
      const arn = userPrincipal(accountId, user.name).arn;
      out(`Created user ${user.name} (${arn}). It can do nothing until you attach a policy.`, { userName: user.name, arn });
      return;
    }
    case 'create-access-key': {
      const key = await store.createAccessKey(args[0]);
      out(
        `Access key for ${key.userName} (the secret is shown only now; store it safely):\n` +
          `  aws_access_key_id     = ${key.accessKeyId}\n` +
          `  aws_secret_access_key = ${key.secretAccessKey}`,
        { userName: key.userName, accessKeyId: key.accessKeyId, secretAccessKey: key.secretAccessKey },
      );
      return;
    }
    case 'attach-policy': {
      const [userName, policyName, file] = args;
      await store.attachPolicy(userName, policyName, readPolicyFile(file));
      out(`Attached policy ${policyName} to ${userName}.`, { userName, policyName });
      return;
    }
    case 'list-users': {
      const users = await store.listUsers();
      const rows = users.map((u) => ({
        userName: u.name,
        arn: userPrincipal(accountId, u.name).arn,
        enabled: u.enabled,
        createdAt: new Date(u.createdAt * 1000).toISOString(),
        policies: Object.keys(u.policies).sort(),
      }));
      const human = rows.length
        ? rows.map((r) => `${r.userName}\t${r.enabled ? 'enabled' : 'DISABLED'}\t${r.createdAt}\tpolicies: ${r.policies.join(', ') || '-'}`).join('\n')
        : '(no users)';
      out(human, { users: rows });
      return;
    }
    case 'disable-user':
    case 'enable-user': {
      const enabled = command === 'enable-user';
      await store.setUserEnabled(args[0], enabled);
      out(`${enabled ? 'Enabled' : 'Disabled'} user ${args[0]}.`, { userName: args[0], enabled });
      return;
    }
    case 'delete-user': {
      await store.deleteUser(args[0]);
      out(`Deleted user ${args[0]} with its access keys and policies.`, { userName: args[0], deleted: true });
      return;
    }
  }
}

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      'data-dir': { type: 'string', default: process.env.S3V_DATA_DIR ?? './data' },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  const [command, ...args] = positionals;
  if (values.help || !command) {
    console.log(USAGE);
    return values.help ? 0 : 2;
  }
  if (!(command in ARITY)) throw new UsageError(`unknown command '${command}'\n\n${USAGE}`);
  if (args.length !== ARITY[command]) throw new UsageError(`${command} takes ${ARITY[command]} argument(s)\n\n${USAGE}`);
  const { accountId } = serviceConfigFromEnv(process.env);
  const catalog = await openCatalog(resolve(values['data-dir']!));
  try {
    await run(command, args, catalog.store, values.json!, accountId);
  } finally {
    await catalog.close();
  }
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    // Messages only: a stack trace or an SDK error object could carry request contents.
    if (error instanceof UsageError || error instanceof ServiceError) console.error(`error: ${error.message}`);
    else if ((error as { code?: string })?.code?.startsWith('ERR_PARSE_ARGS')) console.error(`error: ${(error as Error).message}\n\n${USAGE}`);
    else console.error(`error: ${(error as Error)?.message ?? String(error)}`);
    process.exit(1);
  },
);
