export { planMasks, effectStrengths, type MaskPlan, type EffectStrengths } from './filterGraph.js';
export { rasterizeMasks, toPgm, MASK_GROW_PX } from './rasterize.js';
export { checkSite, type SiteVerdict } from './siteGuard.js';
