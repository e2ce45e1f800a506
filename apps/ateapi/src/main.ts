import 'reflect-metadata';
import { runMain, startService } from '@substrate/service';
import { AppModule } from './app.module';
import { loadAteapiConfig } from './config';

runMain('ateapi', async () => {
  const config = loadAteapiConfig();
  return startService({ name: 'ateapi', module: AppModule, ...config.http });
});
