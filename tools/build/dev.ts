/**
 * The dev image's command (`tsx watch tools/build/dev.ts`): runs SERVICE's composition root from
 * its TypeScript source. tsx watches every file the service loaded and restarts it when skaffold
 * syncs a changed `.ts` file into the container, so an edit is live in a second or two, no rebuild.
 */
import { join } from 'node:path';
import { serviceNamed } from './services';

const service = serviceNamed(process.env.SERVICE ?? '');
void import(join(__dirname, '../..', service.entry));
