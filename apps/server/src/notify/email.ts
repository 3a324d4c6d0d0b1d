/**
 * E-mail over SMTP (nodemailer): a text and an HTML body, a subject that reads
 * on its own in an inbox list. Everything taken from an alert is HTML-escaped:
 * POP codes and function names come from ingested data, which anyone with write
 * access controls.
 */
import { createTransport } from 'nodemailer';
import type { NotifyChannel, NotifyMessage } from './channel.ts';
import { eventTime, formatChangeLine, formatTime, silentWhat, summaryLine } from './format.ts';
import { PermanentError } from './retry.ts';

export const DEFAULT_EMAIL_FROM = 'EdgeWorker Monitor <monitor@localhost>';

export interface EmailChannelOptions {
  /** smtp://user:pass@host:587 or smtps://host:465; nodemailer options may ride in the query (?tls.rejectUnauthorized=false). */
  smtpUrl: string;
  from?: string | undefined;
  to: string[];
  /** Connection, greeting and idle-socket limits of the SMTP client (the notifier adds its own per-attempt limit). */
  socketTimeoutMs?: number;
}

export interface EmailContent {
  subject: string;
  text: string;
  html: string;
}

export function buildEmail({ event, alert, dashboardUrl }: NotifyMessage): EmailContent {
  const resolved = event === 'resolved';
  // A header cannot hold a line break; ingested names should not contain one, but must not break the mail if they do.
  const subject = summaryLine(event, alert).replace(/[\r\n]+/g, ' ');
  const facts: [string, string][] = [
    ['POP', alert.popCode],
    ['Function', alert.functionName],
    ['Severity', alert.severity],
    [alert.type === 'no_data' ? 'Silent' : 'Baseline → current', formatChangeLine(alert)],
    [resolved ? 'Resolved' : 'Opened', formatTime(eventTime(event, alert))],
    ['Alert', alert.id],
  ];
  const lead = alert.type === 'no_data'
    ? resolved
      ? `Data is arriving again from ${silentWhat(alert)}.`
      : `No samples are arriving from ${silentWhat(alert)} (${alert.severity}).`
    : resolved
    ? `The cold-start regression of ${alert.functionName} at ${alert.popCode} is resolved.`
    : `Cold starts of ${alert.functionName} at ${alert.popCode} regressed (${alert.severity}).`;
  const text = [lead, '', ...facts.map(([k, v]) => `${k}: ${v}`), '', `Dashboard: ${dashboardUrl}`, ''].join('\n');
  const colour = resolved ? '#2e7d32' : alert.severity === 'critical' ? '#c62828' : '#ef6c00';
  const html = [
    '<!doctype html><html><body style="font-family:sans-serif">',
    `<h2 style="color:${colour}">${escapeHtml(subject)}</h2>`,
    `<p>${escapeHtml(lead)}</p>`,
    '<table cellpadding="4" style="border-collapse:collapse">',
    ...facts.map(([k, v]) => `<tr><th align="left">${escapeHtml(k)}</th><td>${escapeHtml(v)}</td></tr>`),
    '</table>',
    `<p><a href="${escapeHtml(dashboardUrl)}">Open the dashboard</a></p>`,
    '</body></html>',
  ].join('\n');
  return { subject, text, html };
}

export function createEmailChannel(opts: EmailChannelOptions): NotifyChannel {
  const socketTimeout = opts.socketTimeoutMs ?? 15_000;
  const transport = createTransport({
    url: opts.smtpUrl,
    connectionTimeout: socketTimeout,
    greetingTimeout: socketTimeout,
    socketTimeout,
  });
  const from = opts.from ?? DEFAULT_EMAIL_FROM;
  return {
    name: 'email',
    async send(message, signal) {
      const mail = buildEmail(message);
      try {
        await transport.sendMail({ from, to: opts.to, ...mail, signal });
      } catch (err) {
        if (signal.aborted) throw signal.reason;
        throw classifySmtpError(err);
      }
    },
    close() {
      transport.close();
    },
  };
}

/** SMTP's 5xx replies are permanent (bad recipient, refused login); 4xx and network failures may pass. */
function classifySmtpError(err: unknown): Error {
  const e = err as { message?: string; responseCode?: number; code?: string };
  const message = `SMTP: ${e.message ?? String(err)}`;
  if (typeof e.responseCode === 'number' && e.responseCode >= 500 && e.responseCode < 600) return new PermanentError(message);
  if (e.code === 'EENVELOPE' && e.responseCode === undefined) return new PermanentError(message);
  return new Error(message);
}

export function escapeHtml(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}
