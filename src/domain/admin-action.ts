export const ADMIN_ACTIONS = ['pause', 'resume', 'replay'] as const;
export type AdminAction = (typeof ADMIN_ACTIONS)[number];
