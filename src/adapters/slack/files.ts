import type { App } from '@slack/bolt';
import type { MessageRef } from '../chat.js';
import type { ImageAttachment } from '../../messages/model.js';

/**
 * Uploads a picture into the thread of a posted message with Slack's external upload (files.upload was
 * retired on 2025-11-12): files.getUploadURLExternal (name, byte length, alt text) → POST the bytes to the
 * returned upload URL → files.completeUploadExternal sharing it into the channel and thread. The Web API
 * client's filesUploadV2 runs exactly these three steps.
 */
export async function uploadImageToThread(client: App['client'], ref: MessageRef, image: ImageAttachment): Promise<void> {
  await uploadImage(client, ref.channelId, image, ref.threadId ?? ref.messageId);
}

/** The same upload shared into a channel (no thread): a command's answer sent through response_url has no ts. */
export async function uploadImage(client: App['client'], channelId: string, image: ImageAttachment, threadTs?: string): Promise<void> {
  const file = { file: Buffer.from(image.pngBase64, 'base64'), filename: image.filename, title: image.title, alt_text: image.altText.slice(0, 1000) };
  await client.filesUploadV2(threadTs ? { ...file, channel_id: channelId, thread_ts: threadTs } : { ...file, channel_id: channelId });
}
