// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "flamegraph.h"
#include "grow.h"

#define FG_WIDTH	1200
#define FG_PAD		10
#define FG_FRAME_H	16
#define FG_TOP		48	/* title and buttons */
#define FG_BOTTOM	28	/* the details line */
#define FG_MIN_PX	0.1	/* narrower frames are left out, as flamegraph.pl does */

struct fnode {
	char		*name;
	uint64_t	count;
	struct fnode	**kids;
	size_t		nkids, cap;
};

struct flame {
	struct fnode	root;
	unsigned int	depth;
};

struct flame *flame__new(void)
{
	return calloc(1, sizeof(struct flame));
}

static struct fnode *child(struct fnode *n, const char *name, size_t len)
{
	struct fnode *c;
	size_t i;

	for (i = n->nkids; i-- > 0;)
		if (!strncmp(n->kids[i]->name, name, len) && !n->kids[i]->name[len])
			return n->kids[i];
	if (ARRAY_GROW(n->kids, n->cap, n->nkids + 1, 4))
		return NULL;
	c = calloc(1, sizeof(*c));
	if (!c || !(c->name = strndup(name, len))) {
		free(c);
		return NULL;
	}
	n->kids[n->nkids++] = c;
	return c;
}

int flame__add(struct flame *fl, const char *stack, uint64_t count)
{
	struct fnode *n = &fl->root;
	const char *p = stack;
	unsigned int depth = 0;

	n->count += count;
	while (*p) {
		const char *e = strchr(p, ';');
		size_t len = e ? (size_t)(e - p) : strlen(p);

		n = child(n, p, len);
		if (!n)
			return -ENOMEM;
		n->count += count;
		depth++;
		p += len + (e ? 1 : 0);
	}
	if (depth > fl->depth)
		fl->depth = depth;
	return 0;
}

static int by_name(const void *a, const void *b)
{
	return strcmp((*(struct fnode *const *)a)->name, (*(struct fnode *const *)b)->name);
}

static void xml_text(FILE *f, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '&': fputs("&amp;", f); break;
		case '<': fputs("&lt;", f); break;
		case '>': fputs("&gt;", f); break;
		case '"': fputs("&quot;", f); break;
		case '\'': fputs("&apos;", f); break;
		default:
			if ((unsigned char)*s >= 0x20)
				fputc(*s, f);
		}
	}
}

/* flamegraph.pl's "hot" palette; kernel frames (_[k]) in its orange */
static void color(const char *name, int *r, int *g, int *b)
{
	unsigned int h = 0;
	size_t len = strlen(name);

	for (const char *p = name; *p; p++)
		h = h * 31 + (unsigned char)*p;
	if (len > 4 && !strcmp(name + len - 4, "_[k]")) {
		*r = 230 + h % 25;
		*g = 140 + (h >> 8) % 50;
		*b = 40 + (h >> 16) % 30;
		return;
	}
	*r = 205 + h % 50;
	*g = (h >> 8) % 230;
	*b = (h >> 16) % 55;
}

struct svg_ctx {
	FILE		*f;
	uint64_t	total;
	double		scale;	/* px per sample */
	unsigned int	height;
	const char	*unit;
};

static void emit(struct svg_ctx *c, struct fnode *n, uint64_t start, unsigned int depth)
{
	double x = FG_PAD + start * c->scale, w = n->count * c->scale;
	unsigned int y = c->height - FG_BOTTOM - (depth + 1) * FG_FRAME_H;
	int r, g, b, chars;
	uint64_t off = start;
	size_t i;

	if (w < FG_MIN_PX)
		return;
	if (depth > 0) {	/* depth 0 is "all" */
		color(n->name, &r, &g, &b);
		fprintf(c->f, "<g class=\"f\" data-x=\"%.9f\" data-w=\"%.9f\" data-d=\"%u\" data-n=\"",
			(double)start / c->total, (double)n->count / c->total, depth);
		xml_text(c->f, n->name);
		fprintf(c->f, "\"><title>");
		xml_text(c->f, n->name);
		fprintf(c->f, " (%llu %s, %.2f%%)</title>", (unsigned long long)n->count, c->unit,
			100.0 * n->count / c->total);
		fprintf(c->f, "<rect x=\"%.1f\" y=\"%u\" width=\"%.1f\" height=\"%u\" fill=\"rgb(%d,%d,%d)\" rx=\"2\"/>",
			x, y, w, FG_FRAME_H - 1, r, g, b);
		chars = (int)(w / 7);
		fprintf(c->f, "<text x=\"%.1f\" y=\"%u\">", x + 3, y + FG_FRAME_H - 5);
		if (chars >= 3) {
			if ((int)strlen(n->name) <= chars) {
				xml_text(c->f, n->name);
			} else {
				char *s = strndup(n->name, chars - 2);

				if (s)
					xml_text(c->f, s);
				fputs("..", c->f);
				free(s);
			}
		}
		fprintf(c->f, "</text></g>\n");
	} else {
		fprintf(c->f, "<g class=\"f\" data-x=\"0\" data-w=\"1\" data-d=\"0\" data-n=\"all\"><title>all (%llu %s, 100%%)</title>"
			"<rect x=\"%.1f\" y=\"%u\" width=\"%.1f\" height=\"%u\" fill=\"rgb(250,220,220)\" rx=\"2\"/>"
			"<text x=\"%.1f\" y=\"%u\">all</text></g>\n",
			(unsigned long long)n->count, c->unit, x, y, w, FG_FRAME_H - 1, x + 3,
			y + FG_FRAME_H - 5);
	}
	sort_n(n->kids, n->nkids, sizeof(*n->kids), by_name);
	for (i = 0; i < n->nkids; i++) {
		emit(c, n->kids[i], off, depth + 1);
		off += n->kids[i]->count;
	}
}

static const char script[] =
"var W=%d,P=%d,details,unz;\n"
"function init(){details=document.getElementById('details').firstChild;unz=document.getElementById('unzoom');"
"var g=document.getElementsByClassName('f');for(var i=0;i<g.length;i++){var e=g[i];"
"e.onmouseover=function(){details.nodeValue=this.getElementsByTagName('title')[0].textContent;};"
"e.onmouseout=function(){details.nodeValue=' ';};e.onclick=function(){zoom(this);};}}\n"
"function place(e,fx,fw){var r=e.getElementsByTagName('rect')[0],t=e.getElementsByTagName('text')[0],"
"x=P+fx*(W-2*P),w=fw*(W-2*P),n=e.getAttribute('data-n'),m=Math.floor(w/7);"
"r.setAttribute('x',x);r.setAttribute('width',w);t.setAttribute('x',x+3);"
"t.textContent=m<3?'':(n.length<=m?n:n.substr(0,m-2)+'..');}\n"
"function zoom(z){var x0=+z.getAttribute('data-x'),w0=+z.getAttribute('data-w'),d0=+z.getAttribute('data-d'),"
"g=document.getElementsByClassName('f');for(var i=0;i<g.length;i++){var e=g[i],x=+e.getAttribute('data-x'),"
"w=+e.getAttribute('data-w'),d=+e.getAttribute('data-d');"
"if(d<d0&&x<=x0+1e-12&&x+w>=x0+w0-1e-12){e.style.display='';e.style.opacity=0.6;place(e,0,1);}"
"else if(d>=d0&&x>=x0-1e-12&&x+w<=x0+w0+1e-12){e.style.display='';e.style.opacity=1;place(e,(x-x0)/w0,w/w0);}"
"else e.style.display='none';}unz.style.display='';}\n"
"function unzoom(){var g=document.getElementsByClassName('f');for(var i=0;i<g.length;i++){var e=g[i];"
"e.style.display='';e.style.opacity=1;place(e,+e.getAttribute('data-x'),+e.getAttribute('data-w'));}"
"unz.style.display='none';}\n";

int flame__write_svg(struct flame *fl, FILE *f, const char *title, const char *unit)
{
	struct svg_ctx c = { .f = f, .total = fl->root.count, .unit = unit };

	c.height = FG_TOP + (fl->depth + 1) * FG_FRAME_H + FG_BOTTOM;
	c.scale = c.total ? (double)(FG_WIDTH - 2 * FG_PAD) / c.total : 0;
	fprintf(f, "<?xml version=\"1.0\" standalone=\"no\"?>\n"
		"<svg version=\"1.1\" width=\"%d\" height=\"%u\" onload=\"init()\" viewBox=\"0 0 %d %u\" "
		"xmlns=\"http://www.w3.org/2000/svg\" xmlns:xlink=\"http://www.w3.org/1999/xlink\">\n"
		"<style>text{font-family:Verdana,sans-serif;font-size:12px;fill:#000}"
		".f:hover rect{stroke:#000;stroke-width:0.5;cursor:pointer}"
		"#title{font-size:17px;text-anchor:middle}</style>\n<script type=\"text/ecmascript\"><![CDATA[\n",
		FG_WIDTH, c.height, FG_WIDTH, c.height);
	fprintf(f, script, FG_WIDTH, FG_PAD);
	fprintf(f, "]]></script>\n<rect width=\"100%%\" height=\"100%%\" fill=\"rgb(248,248,240)\"/>\n"
		"<text id=\"title\" x=\"%d\" y=\"24\">", FG_WIDTH / 2);
	xml_text(f, title);
	fprintf(f, "</text>\n<text id=\"unzoom\" x=\"%d\" y=\"24\" style=\"display:none;cursor:pointer\" "
		"onclick=\"unzoom()\">Reset zoom</text>\n"
		"<text id=\"details\" x=\"%d\" y=\"%u\"> </text>\n",
		FG_PAD, FG_PAD, c.height - 10);
	if (c.total)
		emit(&c, &fl->root, 0, 0);
	fprintf(f, "</svg>\n");
	return ferror(f) ? -EIO : 0;
}

static void free_node(struct fnode *n)
{
	size_t i;

	for (i = 0; i < n->nkids; i++) {
		free_node(n->kids[i]);
		free(n->kids[i]);
	}
	free(n->kids);
	free(n->name);
}

void flame__free(struct flame *fl)
{
	if (!fl)
		return;
	free_node(&fl->root);
	free(fl);
}
