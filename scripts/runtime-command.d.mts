export function runtimeArgs(): string[];
