package io.convllava.cli;

import java.util.Iterator;
import java.util.List;

/** The conversation templates, for {@code --template}'s completion. */
final class TemplateNames implements Iterable<String> {
    @Override
    public Iterator<String> iterator() {
        return List.of("vicuna_v1", "llava_v1").iterator();
    }
}
