// `open-s3vectors` (the npm package's command): the server by default, `iam` and `status` as
// subcommands, each the same code `npm start`, `npm run iam` and `npm run status` run.
const subcommand = process.argv[2];
if (subcommand === 'iam' || subcommand === 'status') process.argv.splice(2, 1);
/* eslint-disable @typescript-eslint/no-require-imports */
if (subcommand === 'iam') require('./iam');
else if (subcommand === 'status') require('./status');
else require('./server');
