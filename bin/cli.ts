// `open-s3vectors` (the npm package's command): the server by default, `iam` and `status` as
// subcommands (and `health`, the container's health check; `setup-storage` for an external backend), each the same code `npm start`, `npm run iam` and `npm run status` run.
const subcommand = process.argv[2];
if (subcommand === 'iam' || subcommand === 'status' || subcommand === 'health' || subcommand === 'setup-storage') process.argv.splice(2, 1);
/* eslint-disable @typescript-eslint/no-require-imports */
if (subcommand === 'iam') require('./iam');
else if (subcommand === 'status') require('./status');
else if (subcommand === 'health') require('./health');
else if (subcommand === 'setup-storage') require('./setup-storage');
else require('./server');
