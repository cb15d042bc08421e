package io.convllava.coordinator.httpapi;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import io.convllava.coordinator.http.HttpError;
import io.convllava.coordinator.http.HttpExchange;
import io.convllava.proto.v1.ListModelsRequest;
import io.convllava.proto.v1.ModelInfo;
import io.grpc.StatusRuntimeException;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpResponseStatus;

import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * {@code GET /v1/models} and {@code GET /v1/models/<id>}: the models of ListModels as OpenAI's model objects, with
 * the cluster's own facts about each (context length, image resolution, positions per image) beside them.
 */
final class ModelsRoute {
    private final InProcessApi api;
    private final long created;

    /** @param created when the model was loaded here, in seconds since the epoch */
    ModelsRoute(InProcessApi api, long created) {
        this.api = api;
        this.created = created;
    }

    void list(HttpExchange exchange) {
        JsonArray data = new JsonArray();
        models(exchange).forEach(m -> data.add(model(m)));
        JsonObject list = new JsonObject();
        list.addProperty("object", "list");
        list.add("data", data);
        exchange.respondJson(HttpResponseStatus.OK, list);
    }

    void retrieve(HttpExchange exchange) {
        String id = exchange.path().substring("/v1/models/".length());
        ModelInfo found = models(exchange).stream().filter(m -> m.getId().equals(id)).findFirst()
                .orElseThrow(() -> HttpError.notFound("model '" + id + "' is not served here (GET /v1/models lists"
                        + " what is)", "model_not_found"));
        exchange.respondJson(HttpResponseStatus.OK, model(found));
    }

    private List<ModelInfo> models(HttpExchange exchange) {
        try {
            return api.blockingStub(exchange.header(HttpHeaderNames.AUTHORIZATION))
                    .withDeadlineAfter(10, TimeUnit.SECONDS)
                    .listModels(ListModelsRequest.getDefaultInstance()).getModelsList();
        } catch (StatusRuntimeException e) {
            throw StatusErrors.toHttp(e);
        }
    }

    private JsonObject model(ModelInfo m) {
        JsonObject model = new JsonObject();
        model.addProperty("id", m.getId());
        model.addProperty("object", "model");
        model.addProperty("created", created);
        model.addProperty("owned_by", "convllava");
        model.addProperty("max_sequence_length", m.getMaxSequenceLength());
        model.addProperty("image_resolution", m.getImageResolution());
        model.addProperty("tokens_per_image", m.getTokensPerImage());
        model.addProperty("num_layers", m.getNumLayers());
        return model;
    }
}
