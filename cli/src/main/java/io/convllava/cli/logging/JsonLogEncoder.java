package io.convllava.cli.logging;

import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.IThrowableProxy;
import ch.qos.logback.classic.spi.ThrowableProxyUtil;
import ch.qos.logback.core.encoder.EncoderBase;
import com.google.gson.stream.JsonWriter;
import org.slf4j.event.KeyValuePair;

import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Map;

/**
 * One JSON object per line, flat, for log collectors: {@code ts}, {@code level}, {@code logger}, {@code thread},
 * {@code msg}, then this process's identity ({@code role}, {@code node}: logger context properties), the event's MDC
 * and key-value pairs (such as {@code request_id}) as top-level fields, and {@code error} with the stack trace.
 */
public final class JsonLogEncoder extends EncoderBase<ILoggingEvent> {
    private static final byte[] NONE = new byte[0];

    @Override
    public byte[] headerBytes() {
        return NONE;
    }

    @Override
    public byte[] encode(ILoggingEvent event) {
        StringWriter text = new StringWriter(256);
        try (JsonWriter json = new JsonWriter(text)) {
            json.beginObject();
            json.name("ts").value(Instant.ofEpochMilli(event.getTimeStamp()).toString());
            json.name("level").value(event.getLevel().toString());
            json.name("logger").value(event.getLoggerName());
            json.name("thread").value(event.getThreadName());
            json.name("msg").value(event.getFormattedMessage());
            if (event.getLoggerContextVO() != null) {
                fields(json, event.getLoggerContextVO().getPropertyMap());
            }
            fields(json, event.getMDCPropertyMap());
            if (event.getKeyValuePairs() != null) {
                for (KeyValuePair pair : event.getKeyValuePairs()) {
                    json.name(pair.key).value(String.valueOf(pair.value));
                }
            }
            IThrowableProxy error = event.getThrowableProxy();
            if (error != null) {
                json.name("error").value(ThrowableProxyUtil.asString(error));
            }
            json.endObject();
        } catch (IOException e) {
            throw new UncheckedIOException(e); // a StringWriter does not fail
        }
        text.write('\n');
        return text.toString().getBytes(StandardCharsets.UTF_8);
    }

    @Override
    public byte[] footerBytes() {
        return NONE;
    }

    private static void fields(JsonWriter json, Map<String, String> fields) throws IOException {
        if (fields == null) {
            return;
        }
        for (Map.Entry<String, String> field : fields.entrySet()) {
            json.name(field.getKey()).value(field.getValue());
        }
    }
}
