export { planMasks, effectStrengths, withLiveMask, type MaskPlan, type EffectStrengths, type LiveMaskInput } from './filterGraph.js';
export { rasterizeMasks, toPgm, MASK_GROW_PX } from './rasterize.js';
export { checkSite, type SiteVerdict } from './siteGuard.js';
