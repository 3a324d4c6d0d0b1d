/**
 * Slack incoming webhook: a Block Kit message (header, facts, a button to the
 * dashboard) with a plain `text` fallback for notifications and old clients.
 * The builder is pure, so tests and the README can show the exact payload.
 */
import type { NotifyChannel, NotifyMessage } from './channel.ts';
import { eventTime, formatChangeLine, formatTime, summaryLine } from './format.ts';
import { postJson } from './post-json.ts';

export interface SlackMessage {
  text: string;
  blocks: SlackBlock[];
}

export type SlackBlock =
  | { type: 'header'; text: { type: 'plain_text'; text: string; emoji: boolean } }
  | { type: 'section'; text?: { type: 'mrkdwn'; text: string }; fields?: { type: 'mrkdwn'; text: string }[] }
  | { type: 'actions'; elements: { type: 'button'; text: { type: 'plain_text'; text: string }; url: string; action_id: string }[] }
  | { type: 'context'; elements: { type: 'mrkdwn'; text: string }[] };

/** Slack caps header text at 150 characters. */
const HEADER_MAX = 150;

export function buildSlackMessage({ event, alert, dashboardUrl }: NotifyMessage): SlackMessage {
  const resolved = event === 'resolved';
  const icon = resolved ? ':white_check_mark:' : alert.severity === 'critical' ? ':red_circle:' : ':large_orange_circle:';
  const what = alert.type === 'no_data' ? 'no data' : 'regression';
  const where = alert.popCode === '*' ? 'every POP' : alert.popCode;
  const header = resolved
    ? `${icon} Resolved: ${alert.severity} ${what} at ${where}`
    : `${icon} ${alert.severity.toUpperCase()} ${what} opened at ${where}`;
  const when = formatTime(eventTime(event, alert));
  return {
    text: `${escapeMrkdwn(summaryLine(event, alert))} <${dashboardUrl}|Open dashboard>`,
    blocks: [
      { type: 'header', text: { type: 'plain_text', text: header.slice(0, HEADER_MAX), emoji: true } },
      {
        type: 'section',
        fields: [
          field('POP', escapeMrkdwn(alert.popCode)),
          field('Function', escapeMrkdwn(alert.functionName)),
          field(alert.type === 'no_data' ? 'Silent' : 'Baseline → current', formatChangeLine(alert)),
          field(resolved ? 'Resolved' : 'Opened', when),
        ],
      },
      {
        type: 'actions',
        elements: [{ type: 'button', text: { type: 'plain_text', text: 'Open dashboard' }, url: dashboardUrl, action_id: 'open_dashboard' }],
      },
      { type: 'context', elements: [{ type: 'mrkdwn', text: `Alert ${escapeMrkdwn(alert.id)} · EdgeWorker Monitor` }] },
    ],
  };
}

export function createSlackChannel(opts: { webhookUrl: string }): NotifyChannel {
  return {
    name: 'slack',
    send: (message, signal) => postJson(opts.webhookUrl, buildSlackMessage(message), signal),
  };
}

function field(label: string, value: string) {
  return { type: 'mrkdwn' as const, text: `*${label}*\n${value}` };
}

/** Slack's mrkdwn gives &, < and > meaning (links, mentions); these three must be escaped. */
export function escapeMrkdwn(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
