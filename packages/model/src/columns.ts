/** Column shapes every entity file shares (ids are UUID strings; timestamps have millisecond precision). */
export const id = { type: 'varchar', length: 36, primary: true } as const;
export const ref = (nullable = false) => ({ type: 'varchar', length: 36, nullable }) as const;
export const created = { type: 'datetime', precision: 3, createDate: true, name: 'created_at' } as const;
export const updated = { type: 'datetime', precision: 3, updateDate: true, name: 'updated_at' } as const;
