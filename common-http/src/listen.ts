import type { Server } from 'node:http';
import type { Express } from 'express';
import type { Logger, Runnable } from '@devpie/client-events';

/** An app as a Runnable: starts its parts, listens, and on stop closes the server (idle sockets first). */
export function listen(service: Runnable & { app: Express }, port: number, logger: Logger): Runnable {
  let server: Server | undefined;
  return {
    async start() {
      await service.start();
      await new Promise<void>((resolve) => {
        server = service.app.listen(port, () => resolve());
      });
      logger.info({ port }, `listening on http://localhost:${port}`);
    },
    async stop() {
      if (server) {
        const closed = new Promise((r) => server!.close(r));
        server.closeIdleConnections();
        await closed;
      }
      await service.stop();
    },
  };
}
