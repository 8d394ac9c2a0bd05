/** Encrypts record bodies at rest (AES-256-GCM in this package); a store calls it around its serialized JSON. */
export interface RecordCipher {
  /** The sealed form of a serialized record, naming the key that sealed it. */
  seal(plaintext: string): string;
  /** The plaintext of what `seal` produced under the current or a previous key; a plaintext input is returned as is. Throws a typed error naming the key id for a key it does not hold. */
  open(stored: string): string;
}
