/// The report's flame graph: an icicle (outermost frame at the top) drawn on
/// a <canvas> by a few dozen lines of plain JavaScript, with hover details,
/// click-to-zoom and search. Written here rather than taken from a library:
/// it only has to draw `FlameNode` trees, and the page must stay one file.
///
/// `new HeapdiffFlameGraph(canvas, tooltip, {names, formatSize})` defines
/// `setTree(encoded)`, `search(text)`, `zoom(node)`, `reset()`; after each
/// draw, `drawnRects` is the number of frames drawn (the page reports it).
enum FlameGraphScript {
    static let source = #"""
        class HeapdiffFlameGraph {
          constructor(canvas, tooltip, options) {
            this.canvas = canvas;
            this.tooltip = tooltip;
            this.names = options.names;
            this.formatSize = options.formatSize;
            this.rowHeight = 18;
            this.query = '';
            this.rects = [];
            this.drawnRects = 0;
            this.matched = { frames: 0, bytes: 0 };
            canvas.addEventListener('mousemove', (event) => this.hover(event));
            canvas.addEventListener('mouseleave', () => { this.tooltip.hidden = true; });
            canvas.addEventListener('click', (event) => {
              const hit = this.hit(event);
              if (hit) this.zoom(hit.node);
            });
            window.addEventListener('resize', () => this.draw());
          }

          // [name, value, [children]] from the JSON, into linked nodes.
          setTree(encoded) {
            this.maxDepth = 0;
            this.root = this.build(encoded, null, 0);
            this.focus = this.root;
            this.search(this.query);
          }

          build(encoded, parent, depth) {
            const node = { name: this.names[encoded[0]], value: encoded[1], parent: parent, depth: depth, children: [] };
            this.maxDepth = Math.max(this.maxDepth, depth);
            for (const child of encoded[2] || []) node.children.push(this.build(child, node, depth + 1));
            return node;
          }

          matches(node) {
            return this.query !== '' && node.parent !== null && node.name.toLowerCase().includes(this.query);
          }

          // Highlights frames whose name contains `text` (any case). The
          // matched total counts each stack once: a match inside a match
          // (recursion) adds nothing more.
          search(text) {
            this.query = (text || '').trim().toLowerCase();
            let frames = 0, bytes = 0;
            const walk = (node, inside) => {
              const hit = this.matches(node);
              if (hit) { frames += 1; if (!inside) bytes += node.value; }
              for (const child of node.children) walk(child, inside || hit);
            };
            if (this.root) walk(this.root, false);
            this.matched = { frames: frames, bytes: bytes };
            this.draw();
            return this.matched;
          }

          zoom(node) { this.focus = node; this.draw(); }

          reset() { this.focus = this.root; this.draw(); }

          draw() {
            const width = Math.max(1, Math.floor(this.canvas.parentElement.clientWidth));
            const height = ((this.maxDepth || 0) + 1) * this.rowHeight;
            const ratio = window.devicePixelRatio || 1;
            this.canvas.width = Math.round(width * ratio);
            this.canvas.height = Math.round(height * ratio);
            this.canvas.style.width = width + 'px';
            this.canvas.style.height = height + 'px';
            const context = this.canvas.getContext('2d');
            context.setTransform(ratio, 0, 0, ratio, 0, 0);
            context.clearRect(0, 0, width, height);
            context.font = '12px system-ui, "DejaVu Sans", sans-serif';
            context.textBaseline = 'middle';
            this.context = context;
            this.rects = [];
            if (!this.root || this.root.value <= 0) {
              context.fillStyle = '#59636e';
              context.fillText('nothing to show: no bytes in these stacks', 4, this.rowHeight / 2);
              this.drawnRects = 0;
              return;
            }
            // The zoomed frame and its callers span the width; below it, its callees.
            for (let node = this.focus; node; node = node.parent) this.rect(node, 0, width, node !== this.focus);
            this.layout(this.focus, 0, width);
            this.drawnRects = this.rects.length;
          }

          layout(node, x, width) {
            let offset = x;
            for (const child of node.children) {
              const childWidth = width * child.value / node.value;
              // Under half a pixel, a frame and its callees cannot be seen.
              if (childWidth >= 0.5) {
                this.rect(child, offset, childWidth, false);
                this.layout(child, offset, childWidth);
              }
              offset += childWidth;
            }
          }

          rect(node, x, width, isCaller) {
            const context = this.context, y = node.depth * this.rowHeight;
            context.fillStyle = this.color(node, isCaller);
            context.fillRect(x, y, Math.max(width - 1, 0.5), this.rowHeight - 1);
            if (width > 28) {
              context.fillStyle = '#1f2328';
              context.fillText(this.fit(node.name, width - 6), x + 3, y + this.rowHeight / 2);
            }
            this.rects.push({ x: x, y: y, width: width, node: node });
          }

          // Warm colours from a hash of the name, so a function keeps its
          // colour when zooming or switching graphs; search dims the rest.
          color(node, isCaller) {
            if (this.query !== '') return this.matches(node) ? '#d6309b' : '#e1e4e8';
            let hash = 0;
            for (let i = 0; i < node.name.length; i++) hash = (hash * 31 + node.name.charCodeAt(i)) >>> 0;
            const hue = hash % 50, light = 58 + (hash >>> 8) % 12;
            return 'hsl(' + hue + ', 85%, ' + (isCaller ? light + 14 : light) + '%)';
          }

          fit(name, room) {
            const context = this.context;
            if (context.measureText(name).width <= room) return name;
            let low = 0, high = name.length;
            while (low < high) {
              const middle = Math.ceil((low + high) / 2);
              if (context.measureText(name.slice(0, middle) + '…').width <= room) low = middle; else high = middle - 1;
            }
            return low > 0 ? name.slice(0, low) + '…' : '';
          }

          hit(event) {
            const bounds = this.canvas.getBoundingClientRect();
            const x = event.clientX - bounds.left, y = event.clientY - bounds.top;
            for (let i = this.rects.length - 1; i >= 0; i--) {
              const r = this.rects[i];
              if (x >= r.x && x < r.x + r.width && y >= r.y && y < r.y + this.rowHeight) return r;
            }
            return null;
          }

          hover(event) {
            const hit = this.hit(event);
            if (!hit) { this.tooltip.hidden = true; return; }
            const node = hit.node, share = (part, whole) => (whole > 0 ? (100 * part / whole).toFixed(1) : '0') + '%';
            let text = node.name + '\n' + this.formatSize(node.value) + ' (' + node.value.toLocaleString('en') + ' bytes), '
              + share(node.value, this.root.value) + ' of all';
            if (this.focus !== this.root) text += ', ' + share(node.value, this.focus.value) + ' of the zoomed frame';
            this.tooltip.textContent = text;
            this.tooltip.hidden = false;
            const box = this.canvas.parentElement.getBoundingClientRect();
            const left = Math.min(event.clientX - box.left + 12, Math.max(0, box.width - this.tooltip.offsetWidth));
            this.tooltip.style.left = left + 'px';
            this.tooltip.style.top = (event.clientY - box.top + 14) + 'px';
          }
        }
        window.HeapdiffFlameGraph = HeapdiffFlameGraph;
        """#
}
