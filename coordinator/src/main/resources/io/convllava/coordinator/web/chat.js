'use strict';
// The chat page: a picture (dropped, pasted or picked), a multi-turn conversation about it streamed from
// POST /v1/chat/completions, grounding boxes drawn over the picture, and a stop button that aborts the request (the
// coordinator then cancels the generation on every node).
(() => {
  const FORMATS = ['image/png', 'image/jpeg', 'image/gif', 'image/bmp']; // what the vision nodes decode
  const $ = (id) => document.getElementById(id);
  const els = {
    input: $('image-input'), zone: $('drop-zone'), preview: $('preview'), image: $('preview-image'),
    boxes: $('boxes'), remove: $('remove-image'), messages: $('messages'), error: $('error'), form: $('ask-form'),
    question: $('question'), send: $('send'), stop: $('stop'), clear: $('clear'),
    maxTokens: $('max-tokens'), temperature: $('temperature'), topP: $('top-p'), topK: $('top-k'), seed: $('seed'),
  };

  // The conversation as the API takes it; the picture goes with the first question asked about it.
  let history = [];
  let picture = null; // { dataUrl, width, height, sent }
  let running = null; // the AbortController of the answer in progress

  function showError(message) {
    els.error.textContent = message;
    els.error.hidden = !message;
  }

  function setRunning(controller) {
    running = controller;
    els.send.disabled = !!controller;
    els.stop.disabled = !controller;
    document.body.dataset.state = controller ? 'answering' : 'idle';
  }

  function clearBoxes() {
    els.boxes.replaceChildren();
  }

  function newConversation() {
    if (running) {
      running.abort();
    }
    history = [];
    if (picture) {
      picture.sent = false;
    }
    els.messages.replaceChildren();
    clearBoxes();
    showError('');
  }

  function usePicture(file) {
    if (!file) {
      return;
    }
    if (!FORMATS.includes(file.type)) {
      showError('Unsupported format: ' + (file.type || 'unknown type') + ' (' + file.name
          + '). Choose a PNG, JPEG, GIF or BMP picture.');
      return;
    }
    const reader = new FileReader();
    reader.onerror = () => showError('Cannot read ' + file.name + ': ' + reader.error);
    reader.onload = () => {
      const dataUrl = reader.result;
      const probe = new Image();
      probe.onerror = () => showError('Cannot show ' + file.name + ': it is not a picture the browser can read.');
      probe.onload = () => {
        newConversation();
        picture = { dataUrl, width: probe.naturalWidth, height: probe.naturalHeight, sent: false, name: file.name };
        els.image.src = dataUrl;
        els.image.alt = 'The picture the questions are about: ' + file.name;
        els.preview.hidden = false;
        els.remove.hidden = false;
        els.zone.classList.add('has-image');
        els.question.focus();
      };
      probe.src = dataUrl;
    };
    reader.readAsDataURL(file);
  }

  function removePicture() {
    picture = null;
    els.image.removeAttribute('src');
    els.preview.hidden = true;
    els.remove.hidden = true;
    els.zone.classList.remove('has-image');
    els.input.value = '';
    newConversation();
  }

  // Boxes come in the original picture's pixels: placed in percent of it, they follow the preview's size.
  function drawBoxes(boxes) {
    clearBoxes();
    if (!picture) {
      return;
    }
    boxes.filter((b) => b.image_index === 0).forEach((b, i) => {
      const box = document.createElement('div');
      box.className = 'box';
      box.style.left = (100 * b.x1 / picture.width) + '%';
      box.style.top = (100 * b.y1 / picture.height) + '%';
      box.style.width = (100 * (b.x2 - b.x1) / picture.width) + '%';
      box.style.height = (100 * (b.y2 - b.y1) / picture.height) + '%';
      for (const k of ['x1', 'y1', 'x2', 'y2']) {
        box.dataset[k] = String(b[k]);
      }
      const label = document.createElement('span');
      label.textContent = String(i + 1);
      box.append(label);
      els.boxes.append(box);
    });
  }

  function addMessage(role, text) {
    const item = document.createElement('li');
    item.className = 'message ' + role;
    const who = document.createElement('span');
    who.className = 'who';
    who.textContent = role === 'user' ? 'You' : 'Model';
    const body = document.createElement('div');
    body.className = 'text';
    body.textContent = text;
    item.append(who, body);
    els.messages.append(item);
    item.scrollIntoView({ block: 'end' });
    return item;
  }

  function number(input, parse) {
    const v = input.value.trim();
    return v === '' ? null : parse(v);
  }

  function requestBody() {
    const body = { messages: history, stream: true, stream_options: { include_usage: true } };
    const maxTokens = number(els.maxTokens, parseInt);
    const temperature = number(els.temperature, parseFloat);
    const topP = number(els.topP, parseFloat);
    const topK = number(els.topK, parseInt);
    const seed = number(els.seed, parseInt);
    if (maxTokens !== null) body.max_tokens = maxTokens;
    if (temperature !== null) body.temperature = temperature;
    if (topP !== null && topP < 1) body.top_p = topP;
    if (topK) body.top_k = topK;
    if (seed !== null) body.seed = seed;
    return body;
  }

  async function ask(question) {
    showError('');
    const content = [{ type: 'text', text: question }];
    let withPicture = false;
    if (picture && !picture.sent) {
      content.unshift({ type: 'image_url', image_url: { url: picture.dataUrl } });
      withPicture = true;
    }
    const turn = { role: 'user', content };
    history.push(turn);
    addMessage('user', question);
    const answer = addMessage('assistant', '');
    const text = answer.querySelector('.text');
    answer.classList.add('streaming');
    answer.setAttribute('aria-busy', 'true');
    const controller = new AbortController();
    setRunning(controller);
    let said = '';
    try {
      const response = await Api.call('/v1/chat/completions', {
        method: 'POST', headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify(requestBody()), signal: controller.signal,
      });
      if (withPicture) {
        picture.sent = true;
      }
      await Api.readEvents(response, (event) => {
        const choice = event.choices && event.choices[0];
        if (!choice) {
          if (event.usage) {
            answer.dataset.completionTokens = String(event.usage.completion_tokens);
          }
          return;
        }
        if (choice.delta && choice.delta.content) {
          said += choice.delta.content;
          text.textContent = said;
        }
        if (choice.delta && choice.delta.boxes) {
          drawBoxes(choice.delta.boxes);
        }
        if (choice.finish_reason) {
          answer.dataset.finish = choice.finish_reason;
        }
      });
      history.push({ role: 'assistant', content: said });
      answer.dataset.state = 'done';
    } catch (e) {
      if (controller.signal.aborted) {
        answer.dataset.state = 'stopped';
        const note = document.createElement('span');
        note.className = 'note';
        note.textContent = ' (stopped)';
        answer.append(note);
        // keep what was said, so that the conversation goes on from it
        history.push({ role: 'assistant', content: said });
      } else {
        answer.dataset.state = 'failed';
        if (!said) {
          history.pop(); // the question was not answered: it is not part of the conversation
          answer.remove();
        } else {
          history.push({ role: 'assistant', content: said });
        }
        showError(e instanceof Api.ApiError ? e.message : 'The request failed: ' + e.message);
      }
    } finally {
      answer.classList.remove('streaming');
      answer.removeAttribute('aria-busy');
      setRunning(null);
    }
  }

  els.form.addEventListener('submit', (e) => {
    e.preventDefault();
    const question = els.question.value.trim();
    if (!question || running) {
      return;
    }
    els.question.value = '';
    ask(question);
  });
  els.question.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      els.form.requestSubmit();
    } else if (e.key === 'Escape' && running) {
      running.abort();
    }
  });
  els.stop.addEventListener('click', () => {
    if (running) {
      running.abort();
    }
  });
  els.clear.addEventListener('click', () => {
    newConversation();
    els.question.focus();
  });
  els.remove.addEventListener('click', removePicture);
  els.input.addEventListener('change', () => usePicture(els.input.files[0]));
  els.zone.addEventListener('dragover', (e) => {
    e.preventDefault();
    els.zone.classList.add('dragging');
  });
  els.zone.addEventListener('dragleave', () => els.zone.classList.remove('dragging'));
  els.zone.addEventListener('drop', (e) => {
    e.preventDefault();
    els.zone.classList.remove('dragging');
    usePicture(e.dataTransfer.files[0]);
  });
  document.addEventListener('paste', (e) => {
    const item = [...e.clipboardData.items].find((i) => i.kind === 'file' && i.type.startsWith('image/'));
    if (item) {
      e.preventDefault();
      usePicture(item.getAsFile());
    }
  });

  Api.call('/v1/models').then((r) => r.json()).then((models) => {
    const model = models.data && models.data[0];
    if (model) {
      $('model-name').textContent = model.id;
      els.maxTokens.max = String(model.max_sequence_length);
    }
    document.body.dataset.ready = 'true';
  }).catch((e) => {
    showError(e.message);
    document.body.dataset.ready = 'true';
  });
  setRunning(null);
})();
