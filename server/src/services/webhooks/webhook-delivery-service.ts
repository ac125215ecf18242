import type { WebhookDeliveryView } from '@kiln/shared';
import { KilnError } from '../../errors.js';
import type { Queryable } from '../jobs/job-row.js';
import { findDelivery, listDeliveriesOfJob, requeueEvent } from './webhook-store.js';

const DELIVERY_ID = /^[1-9]\d{0,18}$/;

/** The delivery ledger the API shows a company, and redelivery on request. */
export function webhookDeliveryService(pool: Queryable) {
  async function require(companyId: string, deliveryId: string) {
    const found = DELIVERY_ID.test(deliveryId) ? await findDelivery(pool, companyId, deliveryId) : null;
    if (!found) throw KilnError.of('webhook_delivery_not_found');
    return found;
  }

  return {
    /** Every delivery of the job, oldest first. The caller has checked the job exists. */
    listForJob: (companyId: string, jobId: string): Promise<WebhookDeliveryView[]> => listDeliveriesOfJob(pool, companyId, jobId),

    /**
     * Asks for a new attempt soon. A pending delivery is made due now (one being sent right now
     * is left alone: an attempt is already under way). A delivered or given-up one stays in the
     * ledger as it was, and a new delivery of the same event (same `webhook-id`, attempts from 1)
     * is queued — or, if the event already has a pending one, that one is made due now.
     * Returns the delivery that will carry the attempt.
     */
    async redeliver(companyId: string, deliveryId: string): Promise<WebhookDeliveryView> {
      await require(companyId, deliveryId);
      const pendingId = await requeueEvent(pool, companyId, deliveryId);
      const { jobId: _jobId, ...view } = await require(companyId, pendingId ?? deliveryId);
      return view;
    },
  };
}

export type WebhookDeliveryService = ReturnType<typeof webhookDeliveryService>;
