/** The throw-away SoftHSM2 token lives in hil-sim (the demo uses it too); tests import it from here. */
export { createSoftHsmToken, SOFTHSM_MODULE, type SoftHsmToken, type SoftHsmTokenOptions } from '../../hil-sim/softhsm.ts'
