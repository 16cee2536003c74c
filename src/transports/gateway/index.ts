export { startGateway, type Gateway, type GatewayOptions, type DeviceOptions, type LinkEventSource } from './gateway.ts'
export { Mailboxes, type MailboxLimits } from './mailbox.ts'
export { RouteAliases } from './route-aliases.ts'
export * from './constants.ts'
