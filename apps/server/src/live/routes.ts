import type { FastifyPluginAsync } from 'fastify';
import type { LiveHub } from './hub.ts';

export const liveRoutes: FastifyPluginAsync<{ hub: LiveHub }> = async (app, opts) => {
  app.get('/ws', { websocket: true, schema: { summary: 'Live updates (hello, metrics_update)', tags: ['live'] } }, (socket) => {
    void opts.hub.addClient(socket);
  });
};
