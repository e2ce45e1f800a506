import 'reflect-metadata';
import { runMain, startService } from '@substrate/service';
import { AppModule } from './app.module';
import { loadAteletConfig } from './config';

runMain('atelet', async () => {
  const config = loadAteletConfig();
  return startService({ name: 'atelet', module: AppModule, ...config.http });
});
