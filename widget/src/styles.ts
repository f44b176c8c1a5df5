/* The widget's look, inside its shadow root: nothing here reaches the page and the
 * page's rules do not reach in (`all: initial` on the host stops inheritance too).
 * The brand color arrives as --tl-brand, and --tl-ink is the text that reads on it. */

export const CSS = `
:host{all:initial}
*{box-sizing:border-box}
.tl{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1f2328;position:fixed;bottom:20px;right:20px;z-index:2147483000}
.tl[data-pos=left]{right:auto;left:20px}
button,input,textarea{font:inherit;color:inherit}
button{cursor:pointer}
[hidden]{display:none!important}
:focus-visible{outline:2px solid var(--tl-brand);outline-offset:2px}
.launcher{width:56px;height:56px;border-radius:50%;border:0;background:var(--tl-brand);color:var(--tl-ink);box-shadow:0 4px 14px rgba(0,0,0,.25);display:grid;place-items:center;position:relative}
.launcher svg{width:26px;height:26px}
.badge{position:absolute;top:-4px;right:-4px;min-width:20px;height:20px;padding:0 5px;border-radius:10px;background:#d1242f;color:#fff;font-size:12px;font-weight:600;line-height:20px;text-align:center}
.panel{position:absolute;bottom:70px;right:0;width:370px;height:min(600px,calc(100vh - 110px));display:flex;flex-direction:column;background:#fff;border-radius:14px;box-shadow:0 10px 40px rgba(0,0,0,.25);overflow:hidden}
.tl[data-pos=left] .panel{right:auto;left:0}
header{display:flex;align-items:center;gap:10px;padding:14px 12px 14px 16px;background:var(--tl-brand);color:var(--tl-ink)}
header img{width:36px;height:36px;border-radius:50%;object-fit:cover;background:#fff}
.who{flex:1;min-width:0}
h2{margin:0;font-size:16px;font-weight:600;overflow:hidden;text-overflow:ellipsis;white-space:nowrap}
.status{margin:0;font-size:12px;opacity:.9}
.icon{border:0;background:transparent;color:inherit;width:36px;height:36px;border-radius:8px;display:grid;place-items:center;padding:0}
.icon svg{width:20px;height:20px}
.icon:hover{background:rgba(127,127,127,.18)}
.offline{padding:10px 16px;background:#fff8c5;border-bottom:1px solid #eed888;font-size:13px}
.offline p{margin:0 0 6px}
.body{flex:1;overflow-y:auto;padding:14px 12px;overscroll-behavior:contain}
.log{list-style:none;margin:0;padding:0;display:flex;flex-direction:column;gap:8px}
.msg{max-width:80%;align-self:flex-start;display:flex;flex-direction:column}
.msg[data-from=visitor]{align-self:flex-end;align-items:flex-end}
.text{padding:8px 12px;border-radius:14px;background:#f0f2f5;white-space:pre-wrap;overflow-wrap:anywhere}
.msg[data-from=visitor] .text{background:var(--tl-brand);color:var(--tl-ink)}
.msg[data-from=system] .text{background:transparent;color:#59636e;font-size:13px;padding:2px 4px}
.msg[data-state=sending] .text{opacity:.6}
.msg[data-state=failed] .text{opacity:.6;border:1px dashed #d1242f}
.author,.meta,.seen{font-size:11px;color:#59636e;margin:0 6px 2px}
.meta,.seen{margin:2px 6px 0}
.msg[data-state=failed] .meta{color:#d1242f}
.files{list-style:none;margin:4px 0 0;padding:0}
.files a,.files span{display:inline-block;padding:4px 10px;border:1px solid #d0d7de;border-radius:10px;color:inherit;font-size:13px;text-decoration:none;overflow-wrap:anywhere}
.note{align-self:center;text-align:center;font-size:12px;color:#59636e}
.greeting{margin:0 0 10px;align-self:flex-start;padding:8px 12px;border-radius:14px;background:#f0f2f5;max-width:80%}
.typing{margin:8px 4px 0;font-size:12px;color:#59636e;font-style:italic}
form.card{margin-top:12px;padding:12px;border:1px solid #d0d7de;border-radius:12px;display:flex;flex-direction:column;gap:8px}
form.card p{margin:0;font-weight:600}
label{display:flex;flex-direction:column;gap:2px;font-size:12px;color:#59636e}
input,textarea{border:1px solid #d0d7de;border-radius:8px;padding:7px 9px;background:#fff;color:#1f2328;width:100%}
.row{display:flex;gap:8px;flex-wrap:wrap;align-items:flex-end}
.grow{flex:1}
.btn{border:0;border-radius:8px;padding:7px 14px;background:var(--tl-brand);color:var(--tl-ink);font-weight:600}
.btn.plain{background:#f0f2f5;color:#1f2328}
.stars{display:flex;gap:6px}
.stars button{flex:1;height:38px;border:1px solid #d0d7de;border-radius:8px;background:#fff;font-weight:600}
.stars button[aria-pressed=true]{background:var(--tl-brand);color:var(--tl-ink);border-color:transparent}
.composer{display:flex;align-items:flex-end;gap:4px;padding:8px;border-top:1px solid #d8dee4}
.composer textarea{flex:1;resize:none;max-height:120px;min-height:38px;border-radius:18px;padding:8px 12px}
.composer .icon{color:#59636e}
.composer .send{color:var(--tl-brand)}
footer{padding:4px 12px 8px;font-size:12px;color:#59636e;display:flex;flex-direction:column;gap:4px}
.link{border:0;background:none;padding:0;color:inherit;text-decoration:underline;align-self:flex-start}
.notice{margin:0}
.sr{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}
@media (max-width:480px){
.tl[data-open] .launcher{display:none}
.panel{position:fixed;inset:0;width:100%;height:100%;border-radius:0}
}
@media (prefers-reduced-motion:no-preference){
.launcher{transition:transform .15s ease}
.launcher:hover{transform:scale(1.05)}
}
`;
