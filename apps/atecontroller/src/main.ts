import 'reflect-metadata';
import { runMain, startService } from '@substrate/service';
import { AppModule } from './app.module';
import { loadAtecontrollerConfig } from './config';

runMain('atecontroller', async () => {
  const config = loadAtecontrollerConfig();
  return startService({ name: 'atecontroller', module: AppModule, ...config.http });
});
