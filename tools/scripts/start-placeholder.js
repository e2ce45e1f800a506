// `npm start` will launch the whole local substrate (Redis, the five services, workers) once the router
// issue lands. Until then it says so instead of pretending.
process.stderr.write(
  'npm start: the local all-in-one launcher is not built yet (it arrives with the atenet issue).\n' +
    'What works today: `npm run setup` and `npm test`; see README.md.\n',
);
process.exitCode = 1;
