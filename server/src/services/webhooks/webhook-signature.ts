import { Webhook } from 'standardwebhooks';

/** After a rotation, deliveries are signed with both the new and the previous secret this long. */
export const WEBHOOK_SECRET_OVERLAP_MS = 24 * 60 * 60 * 1000;

/**
 * The Standard Webhooks headers for one message: `webhook-id` (the same for every attempt of a
 * message, so receivers can drop duplicates), `webhook-timestamp` (seconds; receivers reject old
 * ones, which stops replays) and `webhook-signature`, one `v1,<base64 HMAC-SHA256>` per secret,
 * space-separated: during a rotation's overlap both the new and the previous secret sign, and a
 * receiver holding either one verifies.
 *
 * @example
 * signatureHeaders({ id: 'evt_42', timestamp: new Date(), body, secrets: ['whsec_…'] })
 */
export function signatureHeaders(m: { id: string; timestamp: Date; body: string; secrets: readonly string[] }): Record<string, string> {
  if (m.secrets.length === 0) throw new Error('a webhook needs at least one secret to sign with');
  return {
    'webhook-id': m.id,
    'webhook-timestamp': String(Math.floor(m.timestamp.getTime() / 1000)),
    'webhook-signature': m.secrets.map((s) => new Webhook(s).sign(m.id, m.timestamp, m.body)).join(' '),
  };
}

/** The `webhook-id` of the message announcing an event: one per event, kept across retries and redeliveries. */
export const webhookMessageId = (eventId: string) => `evt_${eventId}`;
