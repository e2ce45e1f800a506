import 'reflect-metadata';
import { runMain, startService } from '@substrate/service';
import { AppModule } from './app.module';
import { loadAteomConfig } from './config';

runMain('ateom', async () => {
  const config = loadAteomConfig();
  return startService({ name: 'ateom', module: AppModule, ...config.http });
});
