export { WebhookReceiver, type ReceivedAlert } from '../../bench/webhookReceiver.js';
