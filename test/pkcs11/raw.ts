/**
 * Direct pkcs11js access to the test token, beside the vault (same process,
 * same initialised module): for checks the Vault interface deliberately cannot
 * make (read CKA_VALUE, close every session, log out).
 */
import pkcs11js from 'pkcs11js'
import { acquireModule, releaseModule, type Pkcs11 } from '../../vaults/pkcs11/module.ts'

export interface RawToken {
  p11: Pkcs11
  slot: Buffer
  session: Buffer
  /** Private-key object handles with this CKA_ID. */
  privateKeys(idHex: string): Buffer[]
  close(): void
}

export function openRaw(module: string, label: string, pin?: string): RawToken {
  const p11 = acquireModule(module)
  const slot = p11.C_GetSlotList(true).find((s) => p11.C_GetTokenInfo(s).label.trim() === label)
  if (!slot) throw new Error(`token ${label} not found`)
  const session = p11.C_OpenSession(slot, pkcs11js.CKF_SERIAL_SESSION | pkcs11js.CKF_RW_SESSION)
  if (pin !== undefined) {
    try {
      p11.C_Login(session, pkcs11js.CKU_USER, pin)
    } catch (e) {
      if (!/CKR_USER_ALREADY_LOGGED_IN/.test((e as Error).message)) throw e
    }
  }
  return {
    p11,
    slot,
    session,
    privateKeys(idHex) {
      p11.C_FindObjectsInit(session, [
        { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_PRIVATE_KEY },
        { type: pkcs11js.CKA_ID, value: Buffer.from(idHex, 'hex') },
      ])
      const out = p11.C_FindObjects(session, 16)
      p11.C_FindObjectsFinal(session)
      return out
    },
    close() {
      try {
        p11.C_CloseSession(session)
      } catch {
        /* closed already (C_CloseAllSessions) */
      }
      releaseModule(module)
    },
  }
}
