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
  await client.filesUploadV2({
    channel_id: ref.channelId,
    thread_ts: ref.threadId ?? ref.messageId,
    file: Buffer.from(image.pngBase64, 'base64'),
    filename: image.filename,
    title: image.title,
    alt_text: image.altText.slice(0, 1000),
  });
}
