package io.convllava.vision.image;

import java.awt.image.BufferedImage;
import java.awt.image.IndexColorModel;
import java.awt.image.WritableRaster;
import java.io.IOException;
import java.util.Arrays;
import javax.imageio.ImageReader;
import javax.imageio.metadata.IIOMetadata;
import org.w3c.dom.Element;
import org.w3c.dom.Node;

/**
 * PIL's geometry for a GIF's first frame: the image is the logical screen (grown to fit the frame if the frame
 * overhangs it), filled with the frame's transparent index, or index 0 when it has none, with the frame drawn at
 * its offset. ImageIO's {@code read(0)} gives only the frame's own rectangle.
 */
final class GifScreen {
    private static final String STREAM_FORMAT = "javax_imageio_gif_stream_1.0";
    private static final String IMAGE_FORMAT = "javax_imageio_gif_image_1.0";

    final int width;
    final int height;
    private final int frameLeft;
    private final int frameTop;

    private GifScreen(int width, int height, int frameLeft, int frameTop) {
        this.width = width;
        this.height = height;
        this.frameLeft = frameLeft;
        this.frameTop = frameTop;
    }

    /** The screen of the GIF whose metadata {@code reader} holds (read with metadata enabled). */
    static GifScreen of(ImageReader reader) throws IOException {
        Element frame = child(reader.getImageMetadata(0), IMAGE_FORMAT, "ImageDescriptor");
        int left = intAttribute(frame, "imageLeftPosition");
        int top = intAttribute(frame, "imageTopPosition");
        int right = left + intAttribute(frame, "imageWidth");
        int bottom = top + intAttribute(frame, "imageHeight");
        IIOMetadata streamMetadata = reader.getStreamMetadata();
        Element screen = streamMetadata == null ? null : child(streamMetadata, STREAM_FORMAT, "LogicalScreenDescriptor");
        int screenWidth = screen == null ? 0 : intAttribute(screen, "logicalScreenWidth");
        int screenHeight = screen == null ? 0 : intAttribute(screen, "logicalScreenHeight");
        return new GifScreen(Math.max(screenWidth, right), Math.max(screenHeight, bottom), left, top);
    }

    /** {@code frame} (palette-indexed, as ImageIO decodes GIF frames) drawn on this screen. */
    BufferedImage place(BufferedImage frame) {
        if (width == frame.getWidth() && height == frame.getHeight()) {
            return frame;
        }
        IndexColorModel palette = (IndexColorModel) frame.getColorModel();
        WritableRaster canvas = palette.createCompatibleWritableRaster(width, height);
        int background = Math.max(palette.getTransparentPixel(), 0);
        int[] row = new int[width];
        Arrays.fill(row, background);
        for (int y = 0; y < height; y++) {
            canvas.setSamples(0, y, width, 1, 0, row);
        }
        canvas.setRect(frameLeft, frameTop, frame.getRaster());
        return new BufferedImage(palette, canvas, false, null);
    }

    private static Element child(IIOMetadata metadata, String format, String name) {
        for (Node n = metadata.getAsTree(format).getFirstChild(); n != null; n = n.getNextSibling()) {
            if (n.getNodeName().equals(name)) {
                return (Element) n;
            }
        }
        return null;
    }

    private static int intAttribute(Element element, String name) {
        return element == null ? 0 : Integer.parseInt(element.getAttribute(name));
    }
}
