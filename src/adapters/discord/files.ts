import { Routes, type Client } from 'discord.js';
import type { ImageAttachment } from '../../messages/model.js';

/** Discord's limit for an attachment description (alt text). */
const MAX_DESCRIPTION = 1024;

/**
 * Attaches a picture to a message the bot posted: PATCH with a multipart body (`payload_json` + `files[0]`).
 * The `attachments` list names only the new file, so a chart replaces an earlier one instead of piling up;
 * content, embeds and buttons are left as they are.
 */
export async function attachImageToMessage(rest: Client['rest'], channelId: string, messageId: string, image: ImageAttachment): Promise<void> {
  await rest.patch(Routes.channelMessage(channelId, messageId), {
    body: { attachments: [{ id: '0', filename: image.filename, description: image.altText.slice(0, MAX_DESCRIPTION) }] },
    files: [{ name: image.filename, data: Buffer.from(image.pngBase64, 'base64'), contentType: 'image/png' }],
  });
}

/** A picture as discord.js takes it in `files` (reply, editReply, send). */
export function imageFile(image: ImageAttachment): { attachment: Buffer; name: string; description: string } {
  return { attachment: Buffer.from(image.pngBase64, 'base64'), name: image.filename, description: image.altText.slice(0, MAX_DESCRIPTION) };
}
