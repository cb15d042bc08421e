package io.convllava.vision.image;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.convllava.common.config.PreprocessorConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Reads a CLIP {@code preprocessor_config.json} for these tests. A stand-in until
 * {@code io.convllava.common.config.ConfigLoader.loadPreprocessor} reaches main; then use that instead.
 */
final class PreprocessorConfigJson {
    private PreprocessorConfigJson() {
    }

    static PreprocessorConfig read(Path file) throws IOException {
        JsonObject o = JsonParser.parseString(Files.readString(file)).getAsJsonObject();
        JsonObject crop = o.getAsJsonObject("crop_size");
        return new PreprocessorConfig(o.getAsJsonObject("size").get("shortest_edge").getAsInt(),
                crop.get("height").getAsInt(), crop.get("width").getAsInt(), o.get("resample").getAsInt(),
                o.get("rescale_factor").getAsDouble(), floats(o.getAsJsonArray("image_mean")),
                floats(o.getAsJsonArray("image_std")), o.get("do_resize").getAsBoolean(),
                o.get("do_center_crop").getAsBoolean(), o.get("do_rescale").getAsBoolean(),
                o.get("do_normalize").getAsBoolean(), !o.has("do_convert_rgb") || o.get("do_convert_rgb").getAsBoolean());
    }

    private static float[] floats(JsonArray a) {
        float[] f = new float[a.size()];
        for (int i = 0; i < f.length; i++) {
            f[i] = a.get(i).getAsFloat();
        }
        return f;
    }
}
