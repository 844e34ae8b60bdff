import type { FastifyInstance } from 'fastify';
import type { SlackAdapter } from './adapter.js';

/**
 * Mounts Slack's HTTP-mode endpoint (POST /slack/events) on the fastify server. The body is left unread so
 * the signature is checked over the exact bytes Slack signed.
 */
export async function registerSlackRoutes(fastify: FastifyInstance, slack: SlackAdapter): Promise<void> {
  const handler = slack.httpHandler();
  await fastify.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', (_req, _payload, done) => done(null, undefined));
    scope.post('/slack/events', (request, reply) => {
      reply.hijack();
      handler(request.raw, reply.raw);
    });
  });
}
