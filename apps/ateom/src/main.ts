import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { runMain } from '@substrate/service';
import { loadAteomConfig } from './config';
import { createAteomServer } from './server';

runMain('ateom', async () => {
  const config = loadAteomConfig();
  const app = await createAteomServer(config, new Logger('ateom'));
  await app.listen();
  new Logger('ateom').log(`serving ateom.Ateom on unix://${config.socket} (worker ${config.worker})`);
});
