/**
 * Security headers on every answer (dashboard, API, docs) through @fastify/helmet.
 * The Content-Security-Policy allows only this origin: the built dashboard loads its
 * scripts, styles and the WebSocket from here (index.html has no inline script; the
 * theme is applied by /theme-init.js), the favicon is a data: URI, Swagger UI at /docs
 * is served from here too. Checked in Chromium by the e2e suite, which fails on any
 * console error (a CSP violation is one).
 */
import fastifyHelmet from '@fastify/helmet';
import type { FastifyInstance } from 'fastify';

export const CSP_DIRECTIVES = {
  defaultSrc: ["'self'"],
  baseUri: ["'self'"],
  // 'self' covers ws:/wss: to the same host in CSP Level 3 browsers.
  connectSrc: ["'self'"],
  fontSrc: ["'self'", 'data:'],
  formAction: ["'self'"],
  frameAncestors: ["'none'"],
  imgSrc: ["'self'", 'data:'],
  objectSrc: ["'none'"],
  scriptSrc: ["'self'"],
  scriptSrcAttr: ["'none'"],
  // The dashboard needs no inline style; /docs (Swagger UI) relaxes this for itself (docs.ts).
  styleSrc: ["'self'"],
};

export async function registerSecurityHeaders(app: FastifyInstance) {
  await app.register(fastifyHelmet, {
    // No upgrade-insecure-requests: the server is often reached over plain HTTP inside a
    // network, where upgrading the dashboard's requests to https would break it.
    contentSecurityPolicy: { useDefaults: false, directives: CSP_DIRECTIVES },
    // The dashboard and the API are same-origin; nothing here is meant to be embedded elsewhere.
    crossOriginResourcePolicy: { policy: 'same-origin' },
  });
}
