import 'reflect-metadata';
import { runMain, startService } from '@substrate/service';
import { AppModule } from './app.module';
import { loadAtenetConfig } from './config';

runMain('atenet', async () => {
  const config = loadAtenetConfig();
  return startService({ name: 'atenet', module: AppModule.forRoot(config), ...config.http });
});
