export const ADMIN_ACTIONS = ['pause', 'resume', 'replay', 'acknowledge'] as const;
export type AdminAction = (typeof ADMIN_ACTIONS)[number];
