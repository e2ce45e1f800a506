import 'reflect-metadata';
import { ConsoleLogger } from '@nestjs/common';
import { runMain } from '@substrate/service';
import { loadAteomConfig } from './config';
import { createAteomServer } from './server';

runMain('ateom', async () => {
  const config = loadAteomConfig();
  // One JSON object per line on stdout, with the structured fields services log (actorId, timings).
  const logger = new ConsoleLogger('ateom', { json: true });
  const app = await createAteomServer(config, logger);
  await app.listen();
  logger.log({ message: 'serving ateom.Ateom', socket: `unix://${config.socket}`, worker: config.worker });
});
