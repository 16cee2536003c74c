/**
 * hopseal/transports/serial: routed messages over serial ports, BLE UART
 * bridges and LoRa modems.
 *
 * Layers, bottom up (each its own module, mirroring its spec):
 * - cobs.ts, crc16.ts, framer.ts: COBS(payload ‖ CRC-16/CCITT-FALSE) ‖ 0x00 on a byte stream;
 * - stream-link.ts, serialport-link.ts: FrameLinks on a stream / a re-pluggable serial port;
 * - fragment.ts, reassembly.ts: messages ↔ radio frames of at most the link MTU;
 * - airtime.ts, profiles.ts, pacing.ts, send-queue.ts: LoRa airtime, link profiles, pacing and duty cycle;
 * - transport.ts: the SerialTransport a routing Node registers.
 *
 * Importing it registers node:crypto as the default crypto provider, as every
 * Node entry does (src/crypto/index.ts).
 */
import '../../crypto/index.ts'
export { cobsDecode, cobsEncode, cobsMaxEncodedLength } from './cobs.ts'
export { crc16 } from './crc16.ts'
export { encodeFrame, FrameDecoder, maxWireFrameLength, type FrameDecoderCounters } from './framer.ts'
export { streamFrameLink, type ByteStream, type StreamFrameLink, type StreamLinkOptions } from './stream-link.ts'
export { openSerialLink, type SerialLink, type SerialLinkOptions } from './serialport-link.ts'
export { fragmentCount, fragmentMessage, maxMessageForMtu, parseFrame, type FrameDropReason, type ParsedFrame } from './fragment.ts'
export { Reassembler, type Fragment, type ReassemblerOptions } from './reassembly.ts'
export { loraAirtimeMs, loraSymbolMs, type LoraParams } from './airtime.ts'
export { bleUartProfile, loraProfile, rawProfile, type DutyCycle, type LinkProfile, type LoraProfileOptions } from './profiles.ts'
export { SerialTransport, type SerialLinkEvent, type SerialLinkStats, type SerialTransportOptions } from './transport.ts'
