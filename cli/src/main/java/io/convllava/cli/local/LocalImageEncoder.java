package io.convllava.cli.local;

import io.convllava.common.tensor.HostTensor;
import io.convllava.coordinator.generate.EncodedImage;
import io.convllava.coordinator.generate.ImageEncoder;
import io.convllava.coordinator.generate.ImageInput;
import io.convllava.vision.image.ImageDecoder;
import io.convllava.vision.image.ImagePreprocessor;
import io.convllava.vision.image.InvalidImageException;
import io.convllava.vision.image.RgbImage;
import io.convllava.vision.model.EncodedImages;
import io.convllava.vision.model.VisionEncoder;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/** Decodes, preprocesses and encodes images in this process (the CLI's in-process mode). */
public final class LocalImageEncoder implements ImageEncoder {
    private final ImagePreprocessor preprocessor;
    private final VisionEncoder encoder;

    public LocalImageEncoder(ImagePreprocessor preprocessor, VisionEncoder encoder) {
        this.preprocessor = preprocessor;
        this.encoder = encoder;
    }

    @Override
    public List<EncodedImage> encode(List<ImageInput> images, boolean keepIntermediates) {
        int r = preprocessor.resolution();
        List<EncodedImage> out = new ArrayList<>();
        for (int i = 0; i < images.size(); i++) {
            ImageInput input = images.get(i);
            HostTensor pixels;
            int width = r;
            int height = r;
            if (input.pixels() != null) {
                pixels = input.pixels();
                long[] expected = {3, r, r};
                long[] shape = pixels.rank() == 4 && pixels.dim(0) == 1
                        ? Arrays.copyOfRange(pixels.shape(), 1, 4) : pixels.shape();
                if (!Arrays.equals(shape, expected)) {
                    throw new IllegalArgumentException("image " + i + ": pixel tensor has shape "
                            + Arrays.toString(pixels.shape()) + ", expected " + Arrays.toString(expected));
                }
                pixels = new HostTensor(expected, pixels.data());
            } else {
                RgbImage image;
                try {
                    image = ImageDecoder.decode(input.bytes());
                } catch (InvalidImageException e) {
                    throw new IllegalArgumentException("image " + i + ": " + e.getMessage(), e);
                }
                width = image.width();
                height = image.height();
                pixels = preprocessor.preprocess(image);
            }
            EncodedImages encoded = encoder.encode(new HostTensor(new long[] {1, 3, r, r}, pixels.data()));
            out.add(new EncodedImage(first(encoded.embeddings()), width, height,
                    keepIntermediates ? pixels : null, keepIntermediates ? first(encoded.features()) : null));
        }
        return out;
    }

    @Override
    public int tokensPerImage() {
        return encoder.tokensPerImage();
    }

    /** [1, N, C] -> [N, C] */
    private static HostTensor first(HostTensor batch) {
        return new HostTensor(Arrays.copyOfRange(batch.shape(), 1, batch.rank()), batch.data());
    }
}
