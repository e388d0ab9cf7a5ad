export {
  MediaServer,
  startMediaServer,
  type MediaServerOptions,
  type PlaybackUrls,
  type PlayObserver,
  type PlayStart,
} from './mediaServer.js';
export { signPlayToken, verifyPlayToken, type PlayGrant } from './playToken.js';
export { refusalOf, type ExemptionActive, type RequestActive } from './governedViews.js';
export { FlvPacketType, FlvTagReader, FlvVideoCodec, isDecodableStart, type FlvTag } from './flv.js';
export { assertPortFree } from './ports.js';
